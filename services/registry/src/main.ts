import { bootstrapService } from '@loopline/service-host';
import { registryService } from './registry-service';

void bootstrapService(registryService());

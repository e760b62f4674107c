import { bootstrapService } from '@loopline/service-host';
import { servingService } from './service';

void bootstrapService(servingService);

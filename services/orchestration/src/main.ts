import { bootstrapService } from '@loopline/service-host';
import { orchestrationService } from './orchestration-service';

void bootstrapService(orchestrationService());

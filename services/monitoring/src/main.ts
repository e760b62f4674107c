import { bootstrapService } from '@loopline/service-host';
import { monitoringService } from './monitoring-service';

void bootstrapService(monitoringService());

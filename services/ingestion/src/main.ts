import { bootstrapService } from '@loopline/service-host';
import { ingestionService } from './ingestion-service';

void bootstrapService(ingestionService());

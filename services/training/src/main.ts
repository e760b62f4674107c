import { bootstrapService } from '@loopline/service-host';
import { trainingService } from './training-service';

void bootstrapService(trainingService());

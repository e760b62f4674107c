import { bootstrapService } from '@loopline/service-host';
import { featureStoreService } from './feature-store-service';

void bootstrapService(featureStoreService());

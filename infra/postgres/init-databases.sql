-- One database per service: a service never reads another service's tables (DESIGN.md).
CREATE DATABASE loopline_ingestion;
CREATE DATABASE loopline_feature_store;
CREATE DATABASE loopline_orchestration;
CREATE DATABASE loopline_training;
CREATE DATABASE loopline_registry;
CREATE DATABASE loopline_monitoring;

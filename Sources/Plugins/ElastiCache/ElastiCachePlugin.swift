// Placeholder until the ElastiCache plugin lands.

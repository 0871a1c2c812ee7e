// Placeholder until the Redis plugin lands.

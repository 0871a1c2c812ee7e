// Placeholder until the MySQL plugin lands.

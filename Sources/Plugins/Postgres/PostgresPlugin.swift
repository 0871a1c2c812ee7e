// Placeholder until the Postgres plugin lands.

// @astralog/otel/pino (to be written)
export {};

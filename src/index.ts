/**
 * The package's main entry (`import { Dalga } from 'dalga'`): run the server inside another
 * Node program. Applications that only talk to a running server import `dalga/client` instead,
 * which pulls in none of the server's dependencies.
 */
export { Dalga, type DalgaOptions } from './app.js';
export { buildConfig, ConfigError, type Config } from './config/config.js';
export { loadConfig } from './config/load-config.js';
export { createLogger, type Logger, type LoggerOptions } from './log/logger.js';
export * from './client/dalga-client.js';

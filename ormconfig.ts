/**
 * TypeORM DataSource options, built from Dalga's config. The server uses `dataSourceOptions`;
 * the TypeORM CLI can use the default export (it reads the config named by DALGA_CONFIG, or the
 * embedded SQLite default), e.g. `npx typeorm-ts-node-esm schema:log -d ormconfig.ts`.
 */
import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { loadConfig } from './src/config/load-config.js';
import { dataSourceOptions } from './src/jobs/data-source-options.js';

export { dataSourceOptions };

export default new DataSource(dataSourceOptions(loadConfig(process.env.DALGA_CONFIG).database));

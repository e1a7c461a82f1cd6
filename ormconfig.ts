/**
 * TypeORM DataSource options, built from Dalga's config. The server uses `dataSourceOptions`;
 * the TypeORM CLI uses the default export, configured like the server (the file named by
 * DALGA_CONFIG, then DALGA_<SECTION>_<KEY> variables, else the embedded SQLite default):
 *
 *   DALGA_CONFIG=dalga.ini npm run typeorm -- schema:log -d ormconfig.ts
 */
import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { loadConfig } from './src/config/load-config.js';
import { dataSourceOptions } from './src/store/data-source-options.js';

export { dataSourceOptions };

const config = loadConfig(process.env.DALGA_CONFIG);
export default new DataSource(dataSourceOptions(config.database, config.cluster.shards));

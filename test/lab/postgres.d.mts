/** Type declarations for postgres.mjs (a throw-away PostgreSQL 15 on loopback). Keep in step with it. */
export interface Postgres {
  host: string;
  port: number;
  dir: string;
  /** postgresql://postgres@host:port/<database> */
  uri(database: string): string;
  /** Runs SQL as the superuser in `database`; returns psql's unaligned, tuples-only output. */
  sql(database: string, text: string): Promise<string>;
  createDatabase(name: string): Promise<void>;
  /** Stop the server (immediate), keeping the data: a database outage. */
  pause(): Promise<void>;
  resume(): Promise<void>;
  stop(): Promise<void>;
}

export declare function startPostgres(host: string, port: number): Promise<Postgres>;

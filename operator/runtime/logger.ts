import winston from 'winston';

export type Logger = winston.Logger;

/**
 * Structured logs: JSON when stdout is not a terminal (production, CI), colourised text in a terminal.
 * Messages are constant ("workload restarted"); the variables go in fields ({mapping, secret, workload}).
 */
export function createLogger(level: string, json = !process.stdout.isTTY): Logger {
  const format = json
    ? winston.format.combine(
        winston.format.timestamp(),
        winston.format.errors({ stack: false }),
        winston.format.json(),
      )
    : winston.format.combine(
        winston.format.timestamp({ format: 'HH:mm:ss.SSS' }),
        winston.format.colorize(),
        winston.format.printf(({ level: lvl, message, timestamp, ...fields }) => {
          const rest = Object.keys(fields).length ? ` ${JSON.stringify(fields)}` : '';
          return `${String(timestamp)} ${lvl} ${String(message)}${rest}`;
        }),
      );
  return winston.createLogger({ level, format, transports: [new winston.transports.Console()] });
}

/**
 * Logger: structured JSON lines, one object per line, with a level.
 *
 * Messages are constant strings ("reconcile failed"); variable data goes in fields
 * (`{ controller, namespace, name, error }`). Child loggers carry fields down.
 */

/** Log levels, least to most severe. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** Field values a log line may carry. Errors are rendered as their message (and stack at debug). */
export type LogFields = Readonly<Record<string, unknown>>;

/** A structured logger. */
export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every line. */
  child(fields: LogFields): Logger;
}

/** Options for {@link createLogger}. */
export interface LoggerOptions {
  /** Lowest level written. @default 'info', or $LOG_LEVEL when set */
  readonly level?: LogLevel;
  /** Where lines go. @default process.stderr */
  readonly sink?: (line: string) => void;
  /** Fields on every line. @default {} */
  readonly fields?: LogFields;
  /** Time source for the `ts` field. @default Date.now */
  readonly now?: () => number;
}

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** True if `s` names a log level. */
export function isLogLevel(s: string | undefined): s is LogLevel {
  return s !== undefined && Object.prototype.hasOwnProperty.call(ORDER, s);
}

/** Renders an unknown thrown value as a short string (message plus Kubernetes status code when present). */
export function errorMessage(e: unknown): string {
  if (e instanceof Error) {
    const code = (e as { code?: unknown; statusCode?: unknown }).code ?? (e as { statusCode?: unknown }).statusCode;
    return typeof code === 'number' ? `${e.message} (HTTP ${code})` : e.message;
  }
  return String(e);
}

function render(fields: LogFields, debug: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) {
    if (v instanceof Error) {
      out[k] = errorMessage(v);
      if (debug && v.stack) out[`${k}Stack`] = v.stack;
    } else {
      out[k] = v;
    }
  }
  return out;
}

/** Creates a JSON-lines logger. */
export function createLogger(opts: LoggerOptions = {}): Logger {
  const envLevel = process.env.LOG_LEVEL;
  const level: LogLevel = opts.level ?? (isLogLevel(envLevel) ? envLevel : 'info');
  const sink = opts.sink ?? ((line: string) => process.stderr.write(line + '\n'));
  const now = opts.now ?? Date.now;
  const make = (base: LogFields): Logger => {
    const write = (lvl: LogLevel, msg: string, fields?: LogFields): void => {
      if (ORDER[lvl] < ORDER[level]) return;
      const line = { ts: new Date(now()).toISOString(), level: lvl, msg, ...render({ ...base, ...fields }, level === 'debug') };
      let text: string;
      try {
        text = JSON.stringify(line);
      } catch {
        text = JSON.stringify({ ts: line.ts, level: lvl, msg, note: 'fields were not serialisable' });
      }
      sink(text);
    };
    return {
      debug: (m, f) => write('debug', m, f),
      info: (m, f) => write('info', m, f),
      warn: (m, f) => write('warn', m, f),
      error: (m, f) => write('error', m, f),
      child: (f) => make({ ...base, ...f }),
    };
  };
  return make(opts.fields ?? {});
}

/** A logger that drops everything (default for library code that was given none). */
export const nullLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  child: () => nullLogger,
};

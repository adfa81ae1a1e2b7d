import { type DestinationStream, type Logger, pino } from 'pino';

export type { Logger };

const SEVERITY: Record<string, string> = {
  trace: 'DEBUG',
  debug: 'DEBUG',
  info: 'INFO',
  warn: 'WARNING',
  error: 'ERROR',
  fatal: 'CRITICAL',
};

/**
 * Structured JSON logs that Cloud Logging parses (`severity`, `message`), with secrets redacted (docs/library-traps.md, "Logging"). Never log Slack payloads whole: they carry tokens and response URLs.
 */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      messageKey: 'message',
      base: { service: 'imagepull-bot' },
      formatters: { level: (label, number) => ({ severity: SEVERITY[label] ?? 'DEFAULT', level: number }) },
      redact: {
        paths: [
          'token',
          '*.token',
          'botToken',
          '*.botToken',
          'appToken',
          '*.appToken',
          'signingSecret',
          '*.signingSecret',
          'authorization',
          '*.authorization',
          'headers.authorization',
          '*.headers.authorization',
          'response_url',
          '*.response_url',
        ],
        censor: '[REDACTED]',
      },
    },
    destination,
  );
}

/** A logger that drops everything (tests, CLI JSON output). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

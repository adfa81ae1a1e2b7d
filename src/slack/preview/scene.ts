import type { ChatMessage } from '../../ports/chat.port.ts';

/** One state of an incident, as its messages show it: the preview page draws it, a golden file records it. */
export interface PreviewScene {
  /** Stable id: the golden file's name and the page anchor. */
  readonly id: string;
  readonly title: string;
  /** What the scene shows, in one line. */
  readonly note: string;
  /** The top-level channel message, with its thread replies (the details reply first). */
  readonly top?: ChatMessage;
  readonly thread: readonly ChatMessage[];
  /** Messages only the clicking person sees. */
  readonly ephemeral: readonly ChatMessage[];
  /** An App Home tab instead of a channel message. */
  readonly home?: ChatMessage;
}

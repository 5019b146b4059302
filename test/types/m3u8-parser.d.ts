/** The subset of m3u8-parser's API the playlist tests use; the package ships no types. */
declare module 'm3u8-parser' {
  export interface ParsedSegment {
    uri: string;
    duration: number;
    timeline: number;
  }

  export interface ParsedVariant {
    uri: string;
    attributes: {
      BANDWIDTH?: number;
      'AVERAGE-BANDWIDTH'?: string;
      CODECS?: string;
      RESOLUTION?: { width: number; height: number };
      'FRAME-RATE'?: number;
      AUDIO?: string;
    };
  }

  export interface ParsedRendition {
    default?: boolean;
    autoselect?: boolean;
    uri?: string;
  }

  export interface Manifest {
    version?: number;
    targetDuration?: number;
    mediaSequence?: number;
    playlistType?: string;
    endList?: boolean;
    independentSegments?: boolean;
    segments: ParsedSegment[];
    playlists?: ParsedVariant[];
    mediaGroups?: { AUDIO: Record<string, Record<string, ParsedRendition>> };
  }

  export class Parser {
    manifest: Manifest;
    push(chunk: string): void;
    end(): void;
  }
}

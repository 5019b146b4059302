/** The subset of m3u8-parser's API the playlist tests use; the package ships no types. */
declare module 'm3u8-parser' {
  export interface ByteRange {
    offset: number;
    length: number;
  }

  export interface ParsedSegment {
    uri: string;
    duration: number;
    timeline: number;
    byterange?: ByteRange;
    map?: { uri: string; byterange?: ByteRange };
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
      SUBTITLES?: string;
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
    iFramePlaylists?: ParsedVariant[];
    iFramesOnly?: boolean;
    mediaGroups?: {
      AUDIO: Record<string, Record<string, ParsedRendition>>;
      SUBTITLES?: Record<string, Record<string, ParsedRendition & { language?: string }>>;
    };
  }

  export class Parser {
    /** `uri`: the playlist's own URL, whose query fills EXT-X-DEFINE QUERYPARAM variables. */
    constructor(options?: { uri?: string });
    manifest: Manifest;
    push(chunk: string): void;
    end(): void;
  }
}

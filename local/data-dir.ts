/** Files `npm start` keeps in its data dir (SPOOL_DATA_DIR, default .spool) for clients to find. */
export const LOCAL_FILES = {
  /** The API's base URL, written at every start. */
  api: 'api-url',
  /** The API token, made once (unless SPOOL_API_TOKEN is set) and kept across restarts. */
  token: 'api-token',
} as const;

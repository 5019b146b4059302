import { describe, expect, it } from 'vitest';
import {
  matchRoute,
  pathParamNames,
  ROUTES,
  type RouteSpec,
  splitRouteKey,
} from '../../functions/upload/routes.js';

describe('matchRoute', () => {
  it('matches a path template and gives its parameters, URL-decoded', () => {
    expect(matchRoute('GET', '/videos/abc%20def')).toEqual({
      routeKey: 'GET /videos/{id}',
      pathParameters: { id: 'abc def' },
    });
  });

  it('gives no parameters to a route without any', () => {
    expect(matchRoute('POST', '/videos')).toEqual({ routeKey: 'POST /videos' });
    expect(matchRoute('GET', '/openapi.json')).toEqual({ routeKey: 'GET /openapi.json' });
  });

  it.each([
    ['PUT', '/videos'],
    ['GET', '/videos/abc/def'],
    ['GET', '/videos/'],
    ['GET', '/openapiXjson'],
    ['GET', '/videos?limit=1'],
  ])('matches no route for %s %s', (method, path) => {
    expect(matchRoute(method, path)).toBeUndefined();
  });

  it('matches every route of the table by its own key', () => {
    for (const key of Object.keys(ROUTES) as (keyof typeof ROUTES)[]) {
      const { method, path } = splitRouteKey(key);
      const concrete = path.replace(/\{\w+\}/g, 'x');
      expect(matchRoute(method, concrete)?.routeKey).toBe(key);
      // The documented path parameters are the template's.
      const spec: RouteSpec = ROUTES[key];
      expect(pathParamNames(path)).toEqual(Object.keys(spec.params?.shape ?? {}));
    }
  });
});

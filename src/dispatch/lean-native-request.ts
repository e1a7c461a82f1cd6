import http from 'node:http';
import https from 'node:https';
import type { RequestFunction } from 'got';

/**
 * got's `request` option: opens the ClientRequest from the URL, method, headers and agent alone.
 * got hands its request function ~35 native options, mostly undefined (TLS, lookup, family, ...);
 * node copies that object with spreads twice more (ClientRequest, Agent.addRequest), which on
 * Node 20 cost more per callback than the rest of the ClientRequest. Dalga sets none of those
 * options, so node's defaults (what the undefined values mean) are what it gets either way.
 */
export function leanNativeRequest(agents: { http: http.Agent; https: https.Agent }): RequestFunction {
  return (url, options, callback) => {
    const secure = url.protocol === 'https:';
    const native = { method: options.method, headers: options.headers, agent: secure ? agents.https : agents.http };
    return secure ? https.request(url, native, callback) : http.request(url, native, callback);
  };
}

// Drives headless Chromium through page.html against running Newsroom
// servers and checks what each origin was allowed to do. Started by
// tests/scripts/browser-cors.sh, which runs the servers; settings come from
// the environment:
//
//   CORS_API           a server run with NEWSROOM_CORS_ORIGINS=$CORS_LISTED
//   CORS_PASSWORD      its demo admin's password
//   CORS_STAR_API      optional: a server run with NEWSROOM_CORS_ORIGINS=*
//   CORS_STAR_PASSWORD its demo admin's password
//   CORS_LISTED        origin of a static server serving page.html (listed)
//   CORS_UNLISTED      origin of another one (listed nowhere)
//   CHROMIUM           the browser (default /usr/bin/chromium)
//
// Each check prints PASS or FAIL; the last line is "N passed, N failed" and
// the exit status is non-zero when anything failed.
import http from "node:http";
import { chromium } from "playwright-core";

const env = (name, fallback) => {
  const v = process.env[name] ?? fallback;
  if (v === undefined) {
    console.error(`driver: ${name} is not set`);
    process.exit(2);
  }
  return v;
};
const API = env("CORS_API");
const PASSWORD = env("CORS_PASSWORD");
const STAR_API = process.env.CORS_STAR_API || null;
const STAR_PASSWORD = STAR_API ? env("CORS_STAR_PASSWORD") : null;
const LISTED = env("CORS_LISTED");
const UNLISTED = env("CORS_UNLISTED");
const CHROMIUM = env("CHROMIUM", "/usr/bin/chromium");
const EMAIL = "admin@newsroom.test";

// The whole run is bounded; the shell script bounds it again from outside.
setTimeout(() => {
  console.error("driver: gave up after 150 s");
  summary();
  process.exit(3);
}, 150_000).unref();

let passed = 0;
let failed = 0;
function check(name, ok, detail) {
  if (ok) {
    passed += 1;
    console.log(`PASS ${name}`);
  } else {
    failed += 1;
    console.log(`FAIL ${name}${detail === undefined ? "" : ` -- ${detail}`}`);
  }
}
function summary() {
  console.log(`${passed} passed, ${failed} failed`);
}
const show = (v) => JSON.stringify(v);
// One DevTools request, shortly.
const wire = (x) =>
  x === undefined
    ? "not sent"
    : show({ method: x.method, status: x.wireStatus, error: x.errorText, cors: x.corsError, "if-none-match": x.sent?.["if-none-match"] });

// ---------------------------------------------------------------- plain HTTP
// node:http rather than fetch, so no header is added behind our back.
function request(method, url, headers = {}, body = null) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, timeout: 10_000 }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () =>
        resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString() }),
      );
    });
    req.on("timeout", () => req.destroy(new Error(`timeout: ${method} ${url}`)));
    req.on("error", reject);
    if (body !== null) req.write(body);
    req.end();
  });
}

async function signIn(api, password) {
  const res = await request(
    "POST",
    `${api}/api/v1/auth/login`,
    { "Content-Type": "application/json" },
    JSON.stringify({ email: EMAIL, password }),
  );
  if (res.status !== 200) throw new Error(`sign-in at ${api}: ${res.status} ${res.body}`);
  return JSON.parse(res.body).access_token;
}

const list = (header) =>
  String(header ?? "")
    .split(",")
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);

function preflight(api, path, origin, method, requestHeaders) {
  const headers = { Origin: origin, "Access-Control-Request-Method": method };
  if (requestHeaders) headers["Access-Control-Request-Headers"] = requestHeaders;
  return request("OPTIONS", `${api}${path}`, headers);
}

// What the server says, header by header; the browser checks below show
// what a browser makes of it.
async function httpChecks(tokens) {
  const t = "http, listed origin";
  let r = await preflight(API, "/api/v1/articles", LISTED, "GET", "if-none-match");
  check(`${t}: preflight of the public list is answered (not 405)`, r.status >= 200 && r.status < 300, r.status);
  check(`${t}: preflight allows the origin`, r.headers["access-control-allow-origin"] === LISTED,
    show(r.headers["access-control-allow-origin"]));
  check(`${t}: preflight carries Access-Control-Max-Age`, /^\d+$/.test(r.headers["access-control-max-age"] ?? ""),
    show(r.headers["access-control-max-age"]));

  r = await preflight(API, "/api/v1/auth/login", LISTED, "POST", "content-type");
  check(`${t}: preflight of sign-in allows the origin with credentials`,
    r.status >= 200 && r.status < 300 && r.headers["access-control-allow-origin"] === LISTED &&
      r.headers["access-control-allow-credentials"] === "true",
    `${r.status} ${show(r.headers["access-control-allow-origin"])} credentials=${show(r.headers["access-control-allow-credentials"])}`);

  const wanted = ["authorization", "content-type", "if-none-match", "if-match", "x-client-id", "x-request-id"];
  r = await preflight(API, "/api/v1/admin/articles", LISTED, "GET", wanted.join(","));
  const allowed = list(r.headers["access-control-allow-headers"]);
  check(`${t}: preflight of the staff API allows ${wanted.join(", ")}`,
    r.status >= 200 && r.status < 300 && wanted.every((h) => allowed.includes(h)),
    `${r.status} ${show(r.headers["access-control-allow-headers"])}`);

  // Every route takes its preflight, with the methods it takes.
  r = await preflight(API, "/api/v1/admin/articles/1", LISTED, "PATCH", "authorization,content-type,if-match");
  check(`${t}: preflight of PATCH /api/v1/admin/articles/1 allows PATCH`,
    r.status >= 200 && r.status < 300 && r.headers["access-control-allow-origin"] === LISTED &&
      list(r.headers["access-control-allow-methods"]).includes("patch"),
    `${r.status} ${show(r.headers["access-control-allow-origin"])} ${show(r.headers["access-control-allow-methods"])}`);

  r = await request("GET", `${API}/api/v1/articles?limit=1`, { Origin: LISTED });
  const exposed = list(r.headers["access-control-expose-headers"]);
  const expose = ["etag", "last-modified", "link", "location", "retry-after", "x-request-id"];
  check(`${t}: GET exposes ${expose.join(", ")}`, expose.every((h) => exposed.includes(h)),
    show(r.headers["access-control-expose-headers"]));
  // A reply that names one origin must say it varies by Origin, or a shared
  // cache hands it to the next origin.
  check(`${t}: GET says Vary: Origin`, list(r.headers.vary).includes("origin"), show(r.headers.vary));
  check(`${t}: GET carries X-Request-Id`, Boolean(r.headers["x-request-id"]), show(r.headers["x-request-id"]));

  const u = "http, unlisted origin";
  // Right after the listed origin's read (so from the response cache, if
  // it holds this page): the grant to the listed origin must not be replayed.
  r = await request("GET", `${API}/api/v1/articles?limit=1`, { Origin: UNLISTED });
  check(`${u}: the same GET straight after carries no grant`, r.headers["access-control-allow-origin"] === undefined,
    `${r.status} ${show(r.headers["access-control-allow-origin"])}`);
  for (const [path, method] of [["/api/v1/articles", "GET"], ["/api/v1/auth/login", "POST"], ["/api/v1/admin/articles", "GET"]]) {
    r = await preflight(API, path, UNLISTED, method, "content-type");
    check(`${u}: preflight of ${method} ${path} does not allow it`, r.headers["access-control-allow-origin"] === undefined,
      `${r.status} ${show(r.headers["access-control-allow-origin"])}`);
  }

  if (STAR_API) {
    const s = "http, * server, unlisted origin";
    r = await request("GET", `${STAR_API}/api/v1/articles?limit=1`, { Origin: UNLISTED });
    const acao = r.headers["access-control-allow-origin"];
    check(`${s}: public GET is allowed`, r.status === 200 && (acao === "*" || acao === UNLISTED), `${r.status} ${show(acao)}`);
    // The staff API never answers to `*`, even to a request that carries a
    // valid token.
    r = await request("GET", `${STAR_API}/api/v1/admin/articles`, { Origin: UNLISTED, Authorization: `Bearer ${tokens.star}` });
    check(`${s}: staff GET with a valid token carries no grant`, r.headers["access-control-allow-origin"] === undefined,
      `${r.status} ${show(r.headers["access-control-allow-origin"])}`);
    for (const [path, method] of [["/api/v1/auth/login", "POST"], ["/api/v1/admin/articles", "GET"]]) {
      r = await preflight(STAR_API, path, UNLISTED, method, "content-type,authorization");
      check(`${s}: preflight of ${method} ${path} does not allow it`, r.headers["access-control-allow-origin"] === undefined,
        `${r.status} ${show(r.headers["access-control-allow-origin"])}`);
    }
  }
}

// ------------------------------------------------------------------ browser
const ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  // Without these Chromium reaches out to Google at start; on a closed
  // network those connections are refused and slow everything down.
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

// DevTools network events of one page, grouped by the probe that caused
// them (the page tags each fetch URL with #probe=NAME; a preflight carries
// its request's fragment too).
function watchNetwork(cdp) {
  const byId = new Map();
  const entry = (id) => {
    if (!byId.has(id)) byId.set(id, { id });
    return byId.get(id);
  };
  cdp.on("Network.requestWillBeSent", (e) => {
    const x = entry(e.requestId);
    x.method = e.request.method;
    x.fragment = e.request.urlFragment ?? "";
    x.preflight = e.initiator?.type === "preflight";
  });
  cdp.on("Network.requestWillBeSentExtraInfo", (e) => {
    // Header names as sent on the wire; compare in lower case.
    entry(e.requestId).sent = Object.fromEntries(Object.entries(e.headers).map(([k, v]) => [k.toLowerCase(), v]));
  });
  // The ExtraInfo status is the one on the wire: a revalidation answered
  // 304 shows here as 304, while the script is handed the cached 200.
  cdp.on("Network.responseReceivedExtraInfo", (e) => {
    entry(e.requestId).wireStatus = e.statusCode;
  });
  cdp.on("Network.responseReceived", (e) => {
    entry(e.requestId).status = e.response.status;
  });
  cdp.on("Network.loadingFailed", (e) => {
    const x = entry(e.requestId);
    x.errorText = e.errorText;
    x.corsError = e.corsErrorStatus?.corsError;
  });
  return (probe) => {
    const tag = `#probe=${probe}`;
    const all = [...byId.values()].filter((x) => x.fragment === tag);
    return { request: all.find((x) => !x.preflight), preflight: all.find((x) => x.preflight) };
  };
}

async function runPage(browser, origin, api, params) {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    await cdp.send("Network.enable");
    const net = watchNetwork(cdp);
    const hash = new URLSearchParams({ api, email: EMAIL, ...params }).toString();
    await page.goto(`${origin}/page.html#${hash}`, { timeout: 15_000 });
    await page.waitForFunction(() => window.results !== undefined, null, { timeout: 30_000 });
    const results = await page.evaluate(() => window.results);
    if (!Array.isArray(results)) throw new Error(`page failed: ${show(results)}`);
    // Let the last DevTools events arrive.
    await new Promise((r) => setTimeout(r, 200));
    return { probe: Object.fromEntries(results.map((r) => [r.name, r])), net };
  } finally {
    await context.close();
  }
}

const describe = (r) =>
  r.error ? `${r.error.name}: ${r.error.message}` : `${r.status} ${show(r.headers)}${r.items !== undefined ? ` items=${r.items}` : ""}`;

// Everything a front-end on an allowed origin does, and what the browser
// does for it.
// `cors` false for the control run, where the browser skips CORS (no
// preflights, every header readable).
function expectAllowed(t, run, { cors }) {
  const p = run.probe;
  check(`${t}: list reads 200 with 2 items`, p.list.status === 200 && p.list.items === 2, describe(p.list));
  if (cors) {
    check(`${t}: list's ETag is readable`, Boolean(p.list.headers?.etag), describe(p.list));
    check(`${t}: list's X-Request-Id is readable`, Boolean(p.list.headers?.request_id), describe(p.list));
  }
  // The script's own If-None-Match: no HTTP cache involved, the 304 is
  // what the script gets.
  check(`${t}: revalidating with If-None-Match gives the script a 304 with no body`,
    p.revalidate.status === 304 && p.revalidate.body_length === 0, describe(p.revalidate));
  const reval = run.net("revalidate");
  if (cors) check(`${t}: that If-None-Match went out preflighted, preflight 2xx`,
    reval.preflight !== undefined && reval.preflight.wireStatus >= 200 && reval.preflight.wireStatus < 300,
    wire(reval.preflight));
  // The browser's own revalidation of what its HTTP cache holds
  // (max-age=0, must-revalidate): the server answers 304, the script sees
  // the cached 200 and its body.
  const fill = p["cache-fill"];
  const again = p["cache-revalidate"];
  const net = run.net("cache-revalidate").request ?? {};
  check(`${t}: the browser revalidates its cached copy itself (If-None-Match sent, 304 on the wire, 200 to the script)`,
    fill.status === 200 && again.status === 200 && again.items === fill.items && again.body_length === fill.body_length &&
      net.sent?.["if-none-match"] !== undefined && net.sent["if-none-match"] === fill.headers?.etag && net.wireStatus === 304,
    `fill ${describe(fill)}; again ${describe(again)}; on the wire ${wire(net)}`);
  check(`${t}: sign-in (JSON POST) returns a token`, p.login.status === 200 && p.login.got_token === true, describe(p.login));
  const login = run.net("login");
  if (cors) check(`${t}: sign-in was preflighted and the preflight answered 2xx`,
    login.preflight !== undefined && login.preflight.wireStatus >= 200 && login.preflight.wireStatus < 300,
    wire(login.preflight));
  check(`${t}: staff list with the bearer token reads 200`, p.admin.status === 200 && p.admin.items > 0, describe(p.admin));
  check(`${t}: the same in credentials mode reads 200`,
    p["admin-credentials"].status === 200 && p["admin-credentials"].items > 0, describe(p["admin-credentials"]));
}

// A refusal is a TypeError in the script and, in DevTools, a CORS error:
// not a refused connection or a server error.
function expectRefused(t, run, probes) {
  for (const name of probes) {
    const r = run.probe[name];
    const n = run.net(name);
    const cors = n.request?.corsError;
    check(`${t}: ${name} is refused by CORS (TypeError${cors ? `, ${cors}` : ""})`,
      r.error?.name === "TypeError" && Boolean(cors),
      `${describe(r)}; request ${wire(n.request)}; preflight ${wire(n.preflight)}`);
  }
  // Refused at the preflight, the sign-in itself is never sent.
  const login = run.net("login");
  check(`${t}: the refused sign-in never left the browser (stopped at its preflight)`,
    login.preflight !== undefined && login.request?.wireStatus === undefined && /^Preflight/.test(login.request?.corsError ?? ""),
    `request ${wire(login.request)}; preflight ${wire(login.preflight)}`);
}

const ALL = ["list", "revalidate", "cache-fill", "cache-revalidate", "login", "admin", "admin-credentials"];
const STAFF = ["login", "admin", "admin-credentials"];

async function browserChecks({ token, star: starToken }) {

  // Control: with web security off the same page on the same origins does
  // everything. If this fails the harness is broken, not CORS.
  const loose = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [...ARGS, "--disable-web-security"],
  });
  try {
    expectAllowed("browser control (web security off)", await runPage(loose, LISTED, API, { password: PASSWORD }), {
      cors: false,
    });
  } finally {
    await loose.close();
  }

  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
  try {
    console.log(`-- ${await browser.version()}`);
    expectAllowed(`browser, listed origin`, await runPage(browser, LISTED, API, { password: PASSWORD }), { cors: true });
    expectRefused(`browser, unlisted origin`, await runPage(browser, UNLISTED, API, { password: PASSWORD, token }), ALL);

    if (STAR_API) {
      const t = "browser, * server, unlisted origin";
      const run = await runPage(browser, UNLISTED, STAR_API, { password: STAR_PASSWORD, token: starToken });
      const p = run.probe;
      check(`${t}: list reads 200 with 2 items`, p.list.status === 200 && p.list.items === 2, describe(p.list));
      check(`${t}: list's ETag and X-Request-Id are readable`,
        Boolean(p.list.headers?.etag) && Boolean(p.list.headers?.request_id), describe(p.list));
      check(`${t}: revalidating with If-None-Match gives a 304`, p.revalidate.status === 304, describe(p.revalidate));
      expectRefused(t, run, STAFF);
    }
  } finally {
    await browser.close();
  }
}

try {
  // Tokens signed in outside the browser, for the requests a refused
  // origin makes: refused for its origin, not for want of a token.
  const tokens = { token: await signIn(API, PASSWORD), star: STAR_API ? await signIn(STAR_API, STAR_PASSWORD) : null };
  await httpChecks(tokens);
  await browserChecks(tokens);
} catch (e) {
  check("driver ran to the end", false, e.stack);
}
summary();
process.exit(failed === 0 ? 0 : 1);

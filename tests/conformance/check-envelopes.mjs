#!/usr/bin/env node
// Checks envelopes captured by crashwrap's tests (the loopback receiver writes
// each accepted body, decoded, to a directory) the way Sentry would read them:
//   - Sentry's own JavaScript parser (`parseEnvelope` of @sentry/core) must
//     accept the body and see the same items as a strict reading of the
//     envelope grammar (exact `length`, "\n" after each payload, nothing after
//     the final newline);
//   - event payloads must validate against Sentry's event schema
//     (sentry-event.schema.json, a copy of Relay's);
//   - header and item rules crashwrap relies on (event_id, sent_at, dsn,
//     attachment filenames, client_report shape and size).
//
// usage: node check-envelopes.mjs DIR|FILE...
// Prints "OK path" or "FAIL path: reason; …" per envelope, then
// "N passed, M failed". Exit 0 all passed, 1 some failed, 2 usage or missing
// dependencies, 77 nothing to check (CTest's skip code).
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import zlib from 'node:zlib';

const here = dirname(fileURLToPath(import.meta.url));
let parseEnvelope, Ajv;
try {
  ({ parseEnvelope } = await import('@sentry/core'));
  Ajv = (await import('ajv')).default;
} catch (e) {
  console.error(`check-envelopes: dependencies missing (${e.message}) — run \`npm ci\` in ${here}`);
  process.exit(2);
}

const schema = JSON.parse(readFileSync(join(here, 'sentry-event.schema.json'), 'utf8'));
const ajv = new Ajv({ strict: false, allErrors: true });
ajv.addFormat('uuid', /^(?:[0-9a-fA-F]{32}|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})$/);
for (const f of ['uint64', 'int64', 'double']) ajv.addFormat(f, true);  // annotations only
const validateEvent = ajv.compile(schema);

const utf8 = new TextDecoder('utf-8', { fatal: true });
const HEX32 = /^[0-9a-f]{32}$/;
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
const PLATFORMS = new Set('as3 c cfml cocoa csharp elixir haskell go groovy java javascript native node objc other perl php python ruby'.split(' '));
const ATTACHMENT_TYPES = new Set(['event.attachment', 'event.minidump', 'event.applecrashreport', 'unreal.context',
  'unreal.logs', 'event.view_hierarchy', 'event.payload', 'event.breadcrumbs', 'playstation.prosperodump']);

function files(paths) {
  const out = [];
  const walk = (p) => {
    const st = statSync(p);
    if (st.isDirectory()) {
      for (const name of readdirSync(p).sort()) if (!name.startsWith('.')) walk(join(p, name));
    } else {
      out.push(p);
    }
  };
  paths.forEach(walk);
  return out;
}

function decode(raw) {
  if (raw[0] === 0x1f && raw[1] === 0x8b) return zlib.gunzipSync(raw);
  if (raw[0] === 0x28 && raw[1] === 0xb5 && raw[2] === 0x2f && raw[3] === 0xfd) {
    if (zlib.zstdDecompressSync) return zlib.zstdDecompressSync(raw);
    const r = spawnSync('zstd', ['-dc'], { input: raw, maxBuffer: 256 << 20 });
    if (r.status !== 0) throw new Error('zstd body does not decode');
    return r.stdout;
  }
  return raw;
}

function jsonLine(bytes, what) {
  const text = utf8.decode(bytes);
  if (text !== text.trim() || text.includes('\r')) throw new Error(`${what}: whitespace around the JSON`);
  const v = JSON.parse(text);
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error(`${what}: not a JSON object`);
  return v;
}

// The envelope grammar, strictly: Headers { "\n" Item } [ "\n" ].
function strictParse(body) {
  let pos = body.indexOf(0x0a);
  const header = jsonLine(body.subarray(0, pos < 0 ? body.length : pos), 'envelope header');
  const items = [];
  if (pos < 0) return { header, items };
  pos += 1;
  while (pos < body.length) {
    const n = items.length + 1;
    const end = body.indexOf(0x0a, pos);
    if (end === pos) throw new Error(`item ${n}: blank line`);
    const h = jsonLine(body.subarray(pos, end < 0 ? body.length : end), `item ${n} header`);
    if (typeof h.type !== 'string' || h.type === '') throw new Error(`item ${n}: no type`);
    if (end < 0) throw new Error(`item ${n}: header without payload`);
    let payload;
    if (h.length !== undefined) {
      if (!Number.isInteger(h.length) || h.length < 0) throw new Error(`item ${n}: bad length`);
      if (end + 1 + h.length > body.length) throw new Error(`item ${n}: payload truncated`);
      payload = body.subarray(end + 1, end + 1 + h.length);
      pos = end + 1 + h.length;
      if (pos < body.length && body[pos] !== 0x0a) throw new Error(`item ${n}: no newline after the payload`);
    } else {
      const stop = body.indexOf(0x0a, end + 1);
      payload = body.subarray(end + 1, stop < 0 ? body.length : stop);
      pos = stop < 0 ? body.length : stop;
    }
    items.push({ header: h, payload });
    if (pos < body.length) pos += 1;  // the "\n" after the payload (may be the last byte)
  }
  return { header, items };
}

function checkEvent(payload, header, errors) {
  const event = JSON.parse(utf8.decode(payload));
  if (!validateEvent(event)) {
    for (const e of validateEvent.errors.slice(0, 5)) errors.push(`event schema: ${e.instancePath || '/'} ${e.message}`);
  }
  if (event.timestamp === undefined) errors.push('event: no timestamp');
  if (!PLATFORMS.has(event.platform)) errors.push(`event: platform ${JSON.stringify(event.platform)}`);
  if (event.event_id !== undefined && event.event_id !== header.event_id) errors.push('event: event_id differs from the header');
  if (event.level !== undefined && !['debug', 'info', 'warning', 'error', 'fatal'].includes(event.level)) errors.push(`event: level ${event.level}`);
  for (const ex of event.exception?.values ?? []) {
    if (ex.type === undefined && ex.value === undefined) errors.push('event: exception without type and value');
    for (const f of ex.stacktrace?.frames ?? []) {
      if (!f.function && !f.filename && !f.module && !f.instruction_addr) errors.push('event: frame without a location');
    }
  }
}

function checkItem(item, header, errors) {
  const { header: h, payload } = item;
  if (h.length !== undefined && h.length !== payload.length) errors.push(`${h.type}: length ${h.length} but ${payload.length} bytes`);
  if (h.type === 'event') {
    if (payload.length > 1 << 20) errors.push('event: over 1 MiB');
    checkEvent(payload, header, errors);
  } else if (h.type === 'attachment') {
    if (h.length === undefined) errors.push('attachment: no length');
    if (typeof h.filename !== 'string' || h.filename === '' || /[\\/]/.test(h.filename)) errors.push('attachment: bad filename');
    if (h.attachment_type !== undefined && !ATTACHMENT_TYPES.has(h.attachment_type)) errors.push(`attachment: type ${h.attachment_type}`);
    if (payload.length === 0) errors.push('attachment: empty (Sentry\'s parser fails on length 0)');
    if (!HEX32.test(header.event_id ?? '')) errors.push('attachment: envelope has no event_id');
  } else if (h.type === 'client_report') {
    if (payload.length > 4096) errors.push('client_report: over 4 KiB');
    const r = JSON.parse(utf8.decode(payload));
    if (!Array.isArray(r.discarded_events)) errors.push('client_report: no discarded_events');
    for (const d of r.discarded_events ?? []) {
      if (typeof d.reason !== 'string' || typeof d.category !== 'string' || !Number.isInteger(d.quantity) || d.quantity < 0) {
        errors.push(`client_report: bad entry ${JSON.stringify(d)}`);
      }
    }
    if (r.timestamp !== undefined && !RFC3339.test(r.timestamp) && typeof r.timestamp !== 'number') errors.push('client_report: bad timestamp');
  }
}

function check(path) {
  const errors = [];
  try {
    const body = decode(readFileSync(path));
    const strict = strictParse(body);
    const [coreHeader, coreItems] = parseEnvelope(body);
    if (JSON.stringify(coreHeader) !== JSON.stringify(strict.header)) errors.push('@sentry/core reads another header');
    if (coreItems.length !== strict.items.length) errors.push(`@sentry/core sees ${coreItems.length} items, the grammar ${strict.items.length}`);
    const { header } = strict;
    if (header.event_id !== undefined && !HEX32.test(header.event_id)) errors.push('header: event_id is not 32 lowercase hex');
    if (!RFC3339.test(header.sent_at ?? '') || Number.isNaN(Date.parse(header.sent_at))) errors.push('header: sent_at is not RFC 3339');
    if (typeof header.dsn !== 'string' || !/^https?:\/\/[^@/]+@[^/]+(\/.*)?\/\d+$/.test(header.dsn)) errors.push('header: dsn');
    if (strict.items.length === 0) errors.push('no items');
    if (strict.items.filter((i) => i.header.type === 'event').length > 1) errors.push('more than one event');
    if (strict.items.some((i) => i.header.type === 'event') && strict.items[0].header.type !== 'event') errors.push('the event is not the first item');
    strict.items.forEach((item, i) => {
      checkItem(item, header, errors);
      const [ch, cp] = coreItems[i] ?? [];
      if (ch && JSON.stringify(ch) !== JSON.stringify(item.header)) errors.push(`item ${i + 1}: @sentry/core reads another header`);
      if (cp instanceof Uint8Array && Buffer.compare(Buffer.from(cp), Buffer.from(item.payload)) !== 0) errors.push(`item ${i + 1}: @sentry/core reads other payload bytes`);
    });
  } catch (e) {
    errors.push(e.message);
  }
  return errors;
}

const args = process.argv.slice(2);
if (args.length === 0) {
  console.error('usage: node check-envelopes.mjs DIR|FILE...');
  process.exit(2);
}
let list;
try {
  list = files(args);
} catch (e) {
  console.log(`check-envelopes: ${e.message} — nothing to check (run the integration tests first)`);
  process.exit(77);
}
if (list.length === 0) {
  console.log(`check-envelopes: no envelopes under ${args.join(' ')} — nothing to check (run the integration tests first)`);
  process.exit(77);
}
let passed = 0;
let failed = 0;
for (const path of list) {
  const errors = check(path);
  if (errors.length === 0) {
    passed += 1;
    console.log(`OK ${path}`);
  } else {
    failed += 1;
    console.log(`FAIL ${path}: ${errors.join('; ')}`);
  }
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);

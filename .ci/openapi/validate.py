#!/usr/bin/env python3
"""Validates recorded HTTP exchanges against giftwire's OpenAPI document, independently of the
Rust code that produced both.

Usage: validate.py SPEC_JSON EXCHANGES_DIR [--max-print N] [--jobs N] [--forbid-additional-properties]

EXCHANGES_DIR/*.jsonl hold one exchange a line, as the test suite writes them with
GIFTWIRE_RECORD_EXCHANGES=DIR: {"method", "path", "query", "request_headers", "status",
"response_headers", "response_body_b64"} (header names in lower case; the body as sent, gzip/br
encoded per content-encoding).

Each exchange is matched to a documented operation (a trailing `.json` is stripped as the server
does; literal segments beat templated ones, as the router's do) and its response is validated
with openapi-core: the status is declared (or `default`/`NXX`), the content type is declared,
the body fits the schema, declared headers are present when required and fit their schemas.
A body sent where the document declares no content is a failure too. An exchange on a path the
document does not have must be a 404, and one with a method the matched path does not document a
405, each answered in the error envelope (`{"success": false, "message": "..."}`, or a SCIM error
under /api/scim/v2, where 401/403 are accepted too: SCIM's fallbacks check the token first).
Prints a summary; exits 1 on any failure or when no exchange was read.
"""
from __future__ import annotations

import argparse
import base64
import copy
import glob
import gzip
import json
import os
import re
import sys
import time
import zlib
from collections import Counter
from urllib.parse import urlparse

import brotli
from openapi_core import Config, OpenAPI
from openapi_core.testing import MockRequest, MockResponse

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
SCIM_BASE = "/api/scim/v2"
SCIM_ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"
HOST_URL = "http://giftwire.test"
# Media types openapi-core 0.23 deserializes itself (everything else it hands on as bytes, which no
# `type: string` schema accepts, nor an object schema for application/scim+json).
NATIVE_MEDIA_TYPES = {
    "application/json",
    "application/vnd.api+json",
    "text/html",
    "text/plain",
    "application/xml",
    "application/xhtml+xml",
    "application/x-www-form-urlencoded",
    "multipart/form-data",
}


# ---------------------------------------------------------------- the document


def resolve(spec: dict, node):
    """`node` with a local `$ref` (`#/components/...`) followed, repeatedly."""
    seen = 0
    while isinstance(node, dict) and "$ref" in node and seen < 32:
        ref = node["$ref"]
        if not ref.startswith("#/"):
            raise ValueError(f"only local $refs are supported: {ref}")
        node = spec
        for part in ref[2:].split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        seen += 1
    return node


def media_types(node, found: set[str]) -> None:
    """Every media type named as a key of a `content` map anywhere in the document."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "content" and isinstance(value, dict):
                for mt, obj in value.items():
                    if isinstance(obj, dict):
                        found.add(mt.lower())
            media_types(value, found)
    elif isinstance(node, list):
        for item in node:
            media_types(item, found)


def json_loads(value: bytes, **_params):
    return json.loads(value)


def text_loads(value: bytes, **params):
    # Strict: text that is not in its charset is a failure worth seeing.
    return value.decode(params.get("charset", "utf-8"))


def binary_as_string(value: bytes, **_params):
    # A `type: string` (format: binary / contentMediaType) schema validates the bytes as a string.
    return value.decode("latin-1")


def extra_deserializers(spec: dict) -> dict:
    found: set[str] = set()
    media_types(spec, found)
    extra = {}
    for mt in sorted(found - NATIVE_MEDIA_TYPES):
        if mt.endswith("+json") or mt.endswith("/json"):
            extra[mt] = json_loads
        elif mt.startswith("text/"):
            extra[mt] = text_loads
        else:
            extra[mt] = binary_as_string
    return extra


class Template:
    """One documented path, as segments: literal strings, or regexes for templated ones."""

    def __init__(self, template: str, item: dict):
        self.template = template
        self.item = item
        self.methods = {m for m in HTTP_METHODS if m in item}
        self.segments = []
        for seg in template.split("/"):
            if "{" in seg:
                pattern = "".join(
                    "[^/]+" if part.startswith("{") else re.escape(part)
                    for part in re.split(r"(\{[^}]*\})", seg)
                    if part
                )
                self.segments.append(re.compile(pattern + r"\Z"))
            else:
                self.segments.append(seg)

    def score(self, segments: list[str]):
        """None when `segments` don't fit; else one number per segment, 1 for a literal match,
        so that the greatest score is the most literal (earliest segments first)."""
        if len(segments) != len(self.segments):
            return None
        score = []
        for want, got in zip(self.segments, segments):
            if isinstance(want, str):
                if want != got:
                    return None
                score.append(1)
            else:
                if not got or not want.match(got):
                    return None
                score.append(0)
        return tuple(score)


class Document:
    def __init__(self, raw: dict, forbid_additional: bool):
        spec = copy.deepcopy(raw)
        # The exchanges were recorded against a test server at some address: serve the document
        # from the path of its first server (or /) on a fixed host, whatever its servers say.
        servers = spec.get("servers") or [{"url": "/"}]
        base = urlparse(servers[0].get("url", "/")).path.rstrip("/")
        if "{" in base:
            raise SystemExit(f"server URL templates are not supported: {servers[0]['url']}")
        self.base = base
        spec["servers"] = [{"url": base or "/"}]
        for item in spec.get("paths", {}).values():
            item.pop("servers", None)
            for method in HTTP_METHODS:
                if isinstance(item.get(method), dict):
                    item[method].pop("servers", None)
        self.spec = spec
        config = Config(
            extra_media_type_deserializers=extra_deserializers(spec),
            additional_properties_default_policy="forbid" if forbid_additional else "allow",
        )
        self.api = OpenAPI.from_dict(spec, config=config)  # validates the document itself
        self.templates = [Template(t, resolve(spec, item)) for t, item in spec.get("paths", {}).items()]

    def match(self, path: str):
        """The most literal documented template that fits `path` (a full request path)."""
        if self.base:
            if path != self.base and not path.startswith(self.base + "/"):
                return None
            path = path[len(self.base):] or "/"
        segments = path.split("/")
        best, best_score = None, None
        for template in self.templates:
            score = template.score(segments)
            if score is not None and (best_score is None or score > best_score):
                best, best_score = template, score
        return best

    def find(self, path: str):
        """(template, path as matched): the server treats `/x.json` as `/x`, but a documented
        path that ends in .json itself (/openapi.json) is taken literally."""
        exact = self.match(path)
        if path.endswith(".json"):
            if exact is not None and all(isinstance(s, str) for s in exact.segments):
                return exact, path
            stripped = self.match(path[: -len(".json")])
            if stripped is not None:
                return stripped, path[: -len(".json")]
        return exact, path

    def operation(self, template: Template, method: str) -> dict:
        return resolve(self.spec, template.item[method])

    def response(self, template: Template, method: str, status: int):
        responses = self.operation(template, method).get("responses", {})
        for key in (str(status), f"{str(status)[0]}XX", "default"):  # as openapi-core looks
            if key in responses:
                return resolve(self.spec, responses[key])
        return None

    def operation_name(self, template: Template, method: str) -> str:
        op_id = self.operation(template, method).get("operationId")
        label = f"{method.upper()} {template.template}"
        return f"{op_id} ({label})" if op_id else label


# ---------------------------------------------------------------- exchanges


def decode_body(raw: bytes, encoding: str | None) -> bytes:
    if not encoding:
        return raw
    # Codings are listed in the order they were applied: undo them last first.
    for coding in reversed([c.strip().lower() for c in encoding.split(",") if c.strip()]):
        if coding == "identity":
            continue
        if coding in ("gzip", "x-gzip"):
            raw = gzip.decompress(raw)
        elif coding == "br":
            raw = brotli.decompress(raw)
        elif coding == "deflate":
            try:
                raw = zlib.decompress(raw)
            except zlib.error:
                raw = zlib.decompress(raw, -zlib.MAX_WBITS)
        else:
            raise ValueError(f"unknown content-encoding {coding!r}")
    return raw


def is_json_type(content_type: str | None) -> bool:
    mt = (content_type or "").split(";")[0].strip().lower()
    return mt == "application/json" or mt.endswith("+json")


def envelope_error(method: str, path: str, status: int, headers: dict, body: bytes):
    """Why an answer to an undocumented route is not a proper error envelope (None when it is)."""
    if method == "HEAD" and not body:
        return None
    ct = headers.get("content-type")
    if not is_json_type(ct):
        return f"error answer is not JSON (content-type {ct!r})"
    try:
        doc = json.loads(body)
    except ValueError as e:
        return f"error answer is not valid JSON: {e}"
    if not isinstance(doc, dict):
        return "error answer is not a JSON object"
    if path == SCIM_BASE or path.startswith(SCIM_BASE + "/"):
        schemas = doc.get("schemas")
        if not isinstance(schemas, list) or SCIM_ERROR not in schemas:
            return f"SCIM error lacks schemas [{SCIM_ERROR!r}]"
        if not isinstance(doc.get("status"), str):
            return "SCIM error lacks a string status"
        if doc["status"] != str(status):
            return f"SCIM error status {doc['status']!r} differs from the HTTP status {status}"
        return None
    if doc.get("success") is not False:
        return "error envelope lacks success: false"
    if not isinstance(doc.get("message"), str):
        return "error envelope lacks a string message"
    return None


def describe(exc: Exception) -> str:
    """openapi-core's error, with the schema errors (path and message) it wraps."""
    kind = type(exc).__name__
    text = str(exc)
    if not text.startswith(kind):
        text = f"{kind}: {text}"
    header = getattr(exc, "name", None)
    if isinstance(header, str) and header not in text:
        text = f"{text} (header {header})"
    details = []
    cause = exc
    for _ in range(4):
        errors = getattr(cause, "schema_errors", None)
        if errors:
            for err in list(errors)[:5]:
                where = "/".join(str(p) for p in getattr(err, "absolute_path", []))
                what = str(getattr(err, "message", err))
                what = what if len(what) <= 300 else what[:300] + "..."
                details.append(f"at /{where}: {what}")
            break
        cause = cause.__cause__ or cause.__context__
        if cause is None:
            break
    if details:
        # The wrapping message repeats the whole value: keep it short.
        text = f"{kind}: " + "; ".join(details)
    return text


# The document, built once per process: workers forked from the reader inherit it.
DOC: Document | None = None


def openapi_errors(item: tuple) -> str | None:
    """openapi-core's verdict on one distinct response (keyed as in Validator.exchange)."""
    method, template, path, status, ct, body, headers, no_body = item
    doc = DOC
    request = MockRequest(HOST_URL, method, doc.base + path, path_pattern=doc.base + template)
    response = MockResponse(body, status, dict(headers), content_type=ct or "")
    iter_errors = getattr(doc.api, "iter_response_errors", None)
    if iter_errors is not None:
        errors = list(iter_errors(request, response))
    else:  # an openapi-core without it: its first error only
        try:
            doc.api.validate_response(request, response)
            errors = []
        except Exception as e:  # noqa: BLE001 - each one is a validation failure
            errors = [e]
    if no_body or (not body and not is_json_type(ct)):
        # A HEAD answer, or a truncated one, has no body to validate: its status and headers
        # only. An empty text body (an export of nothing) is the empty string, which openapi-core
        # reports as missing data.
        errors = [e for e in errors if type(e).__name__ != "MissingData"]
    return "; ".join(describe(e) for e in errors) or None


def openapi_errors_batch(items: list) -> list:
    return [openapi_errors(item) for item in items]


class Validator:
    def __init__(self, doc: Document):
        self.doc = doc
        self.validated = Counter()
        self.unmatched = Counter()  # "404 no path" / "405 no method"
        self.failures: list[tuple] = []  # (order, method, path, status, message, body)
        # distinct response -> [a path it was answered on, then each exchange that gave it as
        # (order, method, path, status, operation, body)]
        self.pending: dict[tuple, list] = {}
        self.read = 0
        self.truncated = 0

    def fail(self, order: int, ex: dict, message: str, body) -> None:
        self.failures.append(
            (order, ex.get("method"), ex.get("path"), ex.get("status"), message, body[:300])
        )

    def exchange(self, order: int, ex: dict) -> None:
        method = str(ex["method"]).upper()
        path = ex["path"]
        status = int(ex["status"])
        headers = {k.lower(): v for k, v in (ex.get("response_headers") or {}).items()}
        raw = base64.b64decode(ex.get("response_body_b64") or "")
        # A body the client dropped (or that failed) part way ("truncated": true) is not the
        # server's whole answer: its status and headers are checked, not its body.
        truncated = bool(ex.get("truncated"))
        if truncated:
            self.truncated += 1
            body = b""
        else:
            try:
                body = decode_body(raw, headers.get("content-encoding"))
            except Exception as e:  # noqa: BLE001
                self.fail(order, ex, f"cannot decode the body ({headers.get('content-encoding')}): {e}", raw)
                return
        template, matched_path = self.doc.find(path)
        if template is None:
            self.unmatched_route(order, ex, method, path, status, headers, body, 404, "no path", truncated)
            return
        verb = method.lower()
        head_as_get = verb == "head" and "head" not in template.methods and "get" in template.methods
        if verb not in template.methods and not head_as_get:
            self.unmatched_route(order, ex, method, path, status, headers, body, 405, "no method", truncated)
            return
        op_method = "get" if head_as_get else verb
        # Without a body to look at, only the status and headers are checked.
        no_body = head_as_get or truncated
        name = self.doc.operation_name(template, op_method)
        self.validated[name] += 1
        response = self.doc.response(template, op_method, status)
        ct = headers.get("content-type")
        declared = {}
        if response is not None:
            declared = response.get("headers") or {}
            # openapi-core is silent about a body where none is documented.
            if body and not no_body and not response.get("content"):
                self.fail(
                    order, ex,
                    f"{name}: status {status} has a body (content-type {ct!r}) but no documented content",
                    body,
                )
                return
        # Only the declared headers matter, so that a Date or a request id does not make every
        # response distinct; the path matters only as far as the template does.
        header_values = tuple(
            (n.lower(), headers[n.lower()])
            for n in sorted(declared)
            if n.lower() != "content-type" and n.lower() in headers
        )
        key = (
            op_method,
            template.template,
            status,
            ct,
            b"" if no_body else body,
            header_values,
            no_body,
        )
        item = (order, method, path, status, name, body[:300])
        entry = self.pending.get(key)
        if entry is None:
            self.pending[key] = [matched_path, item]
        else:
            entry.append(item)

    def unmatched_route(self, order, ex, method, path, status, headers, body, want, why, truncated) -> None:
        if status in (401, 403) and (path == SCIM_BASE or path.startswith(SCIM_BASE + "/")):
            # SCIM's own fallbacks (no such endpoint, method not allowed) take the SCIM token
            # first, as its routes do: without one they answer 401, with another token 403.
            problem = None if truncated else envelope_error(method, path, status, headers, body)
            if problem:
                self.fail(order, ex, f"{status} for an undocumented SCIM route: {problem}", body)
            else:
                self.unmatched[f"{status} scim auth"] += 1
            return
        if status != want:
            self.fail(
                order, ex,
                f"undocumented route ({why}) answered {status}; expected {want} in the error "
                "envelope (or document it)",
                body,
            )
            return
        problem = None if truncated else envelope_error(method, path, status, headers, body)
        if problem:
            self.fail(order, ex, f"{want} for an undocumented route: {problem}", body)
            return
        self.unmatched[f"{want} {why}"] += 1

    def run_openapi_core(self, jobs: int) -> int:
        """Validates each distinct response once, on `jobs` processes; returns how many."""
        keys = list(self.pending)
        items = []
        for key in keys:
            method, template, status, ct, body, headers, no_body = key
            path = self.pending[key][0]
            items.append((method, template, path, status, ct, body, headers, no_body))
        if jobs > 1 and len(items) >= 200:
            import multiprocessing

            size = max(16, len(items) // (jobs * 8))
            batches = [items[i : i + size] for i in range(0, len(items), size)]
            with multiprocessing.get_context("fork").Pool(jobs) as pool:
                verdicts = [m for batch in pool.map(openapi_errors_batch, batches) for m in batch]
        else:
            verdicts = openapi_errors_batch(items)
        for key, message in zip(keys, verdicts):
            if message:
                for order, method, path, status, name, body in self.pending[key][1:]:
                    self.failures.append((order, method, path, status, f"{name}: {message}", body[:300]))
        return len(items)


def main() -> int:
    global DOC
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("spec", help="the OpenAPI document (JSON)")
    parser.add_argument("exchanges", help="directory of *.jsonl exchange files")
    parser.add_argument("--max-print", type=int, default=50, help="failures printed (all counted)")
    parser.add_argument(
        "--jobs", type=int, default=os.cpu_count() or 1,
        help="processes validating distinct responses (default: one per core)",
    )
    parser.add_argument(
        "--forbid-additional-properties",
        action="store_true",
        help="treat object schemas without additionalProperties as closed (fields the document "
        "does not list are failures)",
    )
    args = parser.parse_args()
    started = time.monotonic()

    with open(args.spec, "rb") as f:
        raw_spec = json.load(f)
    try:
        DOC = Document(raw_spec, args.forbid_additional_properties)
    except SystemExit:
        raise
    except Exception as e:  # noqa: BLE001 - the document itself is invalid
        print(f"FAIL: the OpenAPI document is invalid: {type(e).__name__}: {e}")
        return 1
    doc = DOC
    built = time.monotonic() - started
    v = Validator(doc)

    if not os.path.isdir(args.exchanges):
        print(f"FAIL: {args.exchanges} is not a directory")
        return 1
    files = sorted(glob.glob(os.path.join(args.exchanges, "*.jsonl")))
    order = 0
    for name in files:
        with open(name, "rb") as f:
            for lineno, line in enumerate(f, 1):
                if not line.strip():
                    continue
                order += 1
                try:
                    ex = json.loads(line)
                except ValueError as e:
                    v.failures.append(
                        (order, "?", f"{name}:{lineno}", "?", f"unreadable line: {e}", line[:300])
                    )
                    continue
                v.read += 1
                try:
                    v.exchange(order, ex)
                except Exception as e:  # noqa: BLE001 - a malformed record
                    v.fail(order, ex, f"cannot validate ({name}:{lineno}): {type(e).__name__}: {e}", b"")
    read_done = time.monotonic()
    distinct = v.run_openapi_core(max(1, args.jobs))
    v.failures.sort(key=lambda f: f[0])

    documented = {doc.operation_name(t, m) for t in doc.templates for m in t.methods}
    print(
        f"OpenAPI exchanges: {v.read} read from {len(files)} files in {args.exchanges}"
        + (f" ({v.truncated} truncated: status and headers checked only)" if v.truncated else "")
    )
    print(f"validated against {len(v.validated)} of {len(documented)} documented operations:")
    for name in sorted(v.validated):
        print(f"  {v.validated[name]:7}  {name}")
    print(
        "undocumented routes answered in the error envelope: "
        f"{v.unmatched['404 no path']} 404 (no path), {v.unmatched['405 no method']} 405 (no method)"
    )
    scim_auth = v.unmatched["401 scim auth"] + v.unmatched["403 scim auth"]
    if scim_auth:
        print(f"  and {scim_auth} undocumented SCIM routes refused (401/403) before routing")
    missing = sorted(documented - set(v.validated))
    print(f"documented operations without any exchange (informational): {len(missing)}")
    for name in missing:
        print(f"  {name}")
    print(f"failures: {len(v.failures)}")
    for _, method, path, status, message, body in v.failures[: args.max_print]:
        shown = body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body)
        print(f"- {method} {path} -> {status}: {message}")
        if shown:
            print(f"    body: {shown!r}")
    if len(v.failures) > args.max_print:
        print(f"  ... and {len(v.failures) - args.max_print} more")
    now = time.monotonic()
    print(
        f"elapsed {now - started:.2f}s (document {built:.2f}s, reading {read_done - started - built:.2f}s, "
        f"openapi-core {now - read_done:.2f}s for {distinct} distinct responses of "
        f"{sum(v.validated.values())} matched exchanges, {max(1, args.jobs)} jobs)"
    )
    if v.read == 0:
        print("FAIL: no exchange was read")
        return 1
    return 1 if v.failures else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Keeps docs/openapi.yaml honest (ctest docs.openapi).

  python3 tests/docs/check_openapi.py [SOURCE_DIR]

1. Parses docs/openapi.yaml and checks its structure: `openapi: 3.1.x`, `info` with title and
   version, `paths`, every operation has `responses` with valid status codes, every local `$ref`
   resolves, every `{param}` of a path template is declared as a required path parameter, every
   security requirement names a defined scheme, and exactly the public routes (GET /api/health,
   POST /api/login) say `security: []`.
2. Extracts the routes the gateway implements from its C++ sources - the REST API's route table
   (`router.add("METHOD", "/pattern", ...)` in gateway/api/src/*.cpp), and the "/..." literals
   that `path`/`r.path` are compared with (==, !=, or a prefix test with rfind(.., 0) == 0) in
   http_server.cpp and auth_service.cpp - and fails, naming the route, if an implemented route is
   missing from the description or a described path is not implemented. For the router's routes
   the methods must match too (GET also answers HEAD). Path parameter names do not matter:
   /api/users/{name} and /api/users/{user} are the same route.

Needs PyYAML (Debian: python3-yaml). Exit status 0 when everything holds, 1 otherwise.
"""
import os
import re
import sys

try:
    import yaml
except ImportError:  # not a skip: without it the test would check nothing
    print("check_openapi: needs PyYAML (Debian package python3-yaml; .ci/deps installs it)", file=sys.stderr)
    sys.exit(1)

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
# The routes that answer without credentials (http_server.cpp, HttpServer::respond).
PUBLIC_OPERATIONS = {("/api/health", "get"), ("/api/login", "post")}

SERVER_SOURCES = ("gateway/http/src/http_server.cpp", "gateway/http/src/auth_service.cpp")
ROUTER_SOURCES_DIR = "gateway/api/src"
ROUTER_ADD = re.compile(r'\brouter\.add\(\s*"([A-Z]+)"\s*,\s*"(/[^"\\]*)"')

# Prefix tests that are not routes of their own.
IGNORED_PREFIXES = {
    "/api/": "the catch-all: unknown /api/ paths answer 404",
    "/assets/": "the dashboard's static files (cache headers)",
}

errors = []


def fail(message):
    errors.append(message)


# ---- part 1: the description's structure ----------------------------------------------------------


def resolve_pointer(doc, ref):
    """The object a local $ref ("#/a/b") points at, or raises KeyError."""
    if not ref.startswith("#"):
        raise KeyError("only local references are checked: " + ref)
    node = doc
    pointer = ref[1:]
    if pointer == "":
        return node
    if not pointer.startswith("/"):
        raise KeyError(ref)
    for token in pointer[1:].split("/"):
        token = token.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and token in node:
            node = node[token]
        elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
            node = node[int(token)]
        else:
            raise KeyError(ref)
    return node


def check_refs(doc, node, where):
    if isinstance(node, dict):
        ref = node.get("$ref")
        if ref is not None:
            if not isinstance(ref, str):
                fail(f"{where}: $ref is not a string")
            else:
                try:
                    resolve_pointer(doc, ref)
                except KeyError:
                    fail(f"{where}: $ref {ref} does not resolve")
        for key, value in node.items():
            check_refs(doc, value, f"{where}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            check_refs(doc, value, f"{where}/{i}")


def deref(doc, node):
    seen = 0
    while isinstance(node, dict) and "$ref" in node and seen < 20:
        try:
            node = resolve_pointer(doc, node["$ref"])
        except KeyError:
            return {}
        seen += 1
    return node


def check_structure(doc):
    if not isinstance(doc, dict):
        fail("the document is not a mapping")
        return {}
    version = doc.get("openapi")
    if not isinstance(version, str) or not re.fullmatch(r"3\.1\.\d+", version):
        fail(f"openapi: must be a 3.1.x version string, is {version!r}")
    info = doc.get("info")
    if not isinstance(info, dict) or not isinstance(info.get("title"), str) or not isinstance(info.get("version"), str):
        fail("info: needs a title and a version (strings)")
    paths = doc.get("paths")
    if not isinstance(paths, dict) or not paths:
        fail("paths: missing or empty")
        return {}
    schemes = ((doc.get("components") or {}).get("securitySchemes")) or {}

    def check_security(requirements, where):
        if not isinstance(requirements, list):
            fail(f"{where}: security must be a list")
            return
        for requirement in requirements:
            if not isinstance(requirement, dict):
                fail(f"{where}: a security requirement must be a mapping")
                continue
            for name in requirement:
                if name not in schemes:
                    fail(f"{where}: security scheme '{name}' is not in components/securitySchemes")

    if "security" in doc:
        check_security(doc["security"], "security")

    operation_ids = {}
    for path, item in paths.items():
        if not isinstance(path, str) or not path.startswith("/"):
            fail(f"paths: {path!r} does not start with /")
            continue
        if not isinstance(item, dict):
            fail(f"paths {path}: not a mapping")
            continue
        template_params = re.findall(r"\{([^}]+)\}", path)
        path_level = [deref(doc, p) for p in item.get("parameters", [])]
        operations = {m: op for m, op in item.items() if m in HTTP_METHODS}
        if not operations:
            fail(f"paths {path}: no operation")
        for method, op in operations.items():
            where = f"{method.upper()} {path}"
            if not isinstance(op, dict):
                fail(f"{where}: not a mapping")
                continue
            op_id = op.get("operationId")
            if op_id is not None:
                if op_id in operation_ids:
                    fail(f"{where}: operationId {op_id} also used by {operation_ids[op_id]}")
                operation_ids[op_id] = where
            responses = op.get("responses")
            if not isinstance(responses, dict) or not responses:
                fail(f"{where}: no responses")
            else:
                for code, response in responses.items():
                    if not isinstance(code, str) or not re.fullmatch(r"[1-5](\d\d|XX)|default", code):
                        fail(f"{where}: response key {code!r} is not a quoted status code, nXX or default")
                    response = deref(doc, response)
                    if not isinstance(response, dict) or not isinstance(response.get("description"), str):
                        fail(f"{where}: response {code} has no description")
            params = path_level + [deref(doc, p) for p in op.get("parameters", [])]
            declared = {p.get("name") for p in params if isinstance(p, dict) and p.get("in") == "path"}
            for p in params:
                if not isinstance(p, dict) or "name" not in p or "in" not in p:
                    fail(f"{where}: a parameter needs name and in")
                elif p["in"] == "path" and p.get("required") is not True:
                    fail(f"{where}: path parameter {p['name']} must be required: true")
            for name in template_params:
                if name not in declared:
                    fail(f"{where}: path parameter {{{name}}} is not declared")
            for name in declared - set(template_params):
                fail(f"{where}: path parameter {name} is not in the path")
            if "security" in op:
                check_security(op["security"], where)
            public = op.get("security") == []
            if (path, method) in PUBLIC_OPERATIONS and not public:
                fail(f"{where}: is public in the server; mark it `security: []`")
            if (path, method) not in PUBLIC_OPERATIONS and public:
                fail(f"{where}: says `security: []` but the server requires credentials")
    for path, method in sorted(PUBLIC_OPERATIONS):
        if method not in (paths.get(path) or {}):
            fail(f"{method.upper()} {path}: the public route is not described")
    check_refs(doc, doc, "#")
    return paths


# ---- part 2: the routes in the C++ sources --------------------------------------------------------


def strip_comments(text):
    """C++ text with comments blanked out (newlines kept, so offsets and line numbers still hold)."""
    out = []
    i = 0
    n = len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif c == "R" and text.startswith('R"', i) and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")):
            m = re.match(r'R"([^()\\\s]{0,16})\(', text[i:])
            if m:
                end = text.find(")" + m.group(1) + '"', i + m.end())
                end = n if end < 0 else end + len(m.group(1)) + 2
                out.append(text[i:end])
                i = end
            else:
                out.append(c)
                i += 1
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            out.append(text[i:j + 1])
            i = j + 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


SUBJECT = r"(?:\b[A-Za-z_]\w*\s*(?:\.|->)\s*)*(?:target|path)\b(?:\s*\(\s*\))?"
EQUALITY = re.compile(SUBJECT + r'\s*[!=]=\s*"(/[^"\\]*)"|"(/[^"\\]*)"\s*[!=]=\s*' + SUBJECT)
PREFIX = re.compile(SUBJECT + r'\s*\.\s*(?:rfind\s*\(\s*"(/[^"\\]*)"\s*,\s*0\s*\)\s*==\s*0|starts_with\s*\(\s*"(/[^"\\]*)"\s*\))'
                    r"(\s*&&\s*api_\s*\.\s*node_resource)?")


def line_of(text, offset):
    return text.count("\n", 0, offset) + 1


def router_routes(root):
    """(normalised path -> where, normalised path -> set of methods) from the API's route table."""
    routes, methods = {}, {}
    directory = os.path.join(root, ROUTER_SOURCES_DIR)
    try:
        names = sorted(n for n in os.listdir(directory) if n.endswith(".cpp"))
    except OSError as e:
        fail(f"{ROUTER_SOURCES_DIR}: cannot list ({e})")
        return routes, methods
    for name in names:
        rel = f"{ROUTER_SOURCES_DIR}/{name}"
        text = strip_comments(open(os.path.join(root, rel), encoding="utf-8").read())
        for m in ROUTER_ADD.finditer(text):
            path = normalise(m.group(2))
            routes.setdefault(path, f"{rel}:{line_of(text, m.start())}")
            methods.setdefault(path, set()).add(m.group(1).lower())
    if not routes:
        fail(f"{ROUTER_SOURCES_DIR}: no router.add(\"METHOD\", \"/path\") found; update tests/docs/check_openapi.py")
    return routes, methods


def implemented_routes(root):
    routes = {}  # normalised path -> where it was found
    for rel in SERVER_SOURCES:
        try:
            text = strip_comments(open(os.path.join(root, rel), encoding="utf-8").read())
        except OSError as e:
            fail(f"{rel}: cannot read ({e})")
            continue
        exact = {}
        for m in EQUALITY.finditer(text):
            literal = m.group(1) or m.group(2)
            exact.setdefault(literal, f"{rel}:{line_of(text, m.start())}")
        prefixes = []
        for m in PREFIX.finditer(text):
            prefixes.append((m.group(1) or m.group(2), bool(m.group(3)), f"{rel}:{line_of(text, m.start())}"))
        if not exact:
            fail(f"{rel}: no route comparisons found; update tests/docs/check_openapi.py to the new code")
        # A route literal used some other way (a handler table, a switch) would slip past the
        # patterns above: every one must be a comparison or a prefix test this script understands.
        understood = set(exact) | {literal for literal, _, _ in prefixes}
        for m in re.finditer(r'"(/(?:api/[^"\\]*|metrics|ws))"', text):
            if m.group(1) not in understood:
                fail(f"{rel}:{line_of(text, m.start())}: route literal \"{m.group(1)}\" is not used as "
                     "path == \"...\" or a prefix test; teach tests/docs/check_openapi.py this form")
        for literal, where in exact.items():
            routes.setdefault(literal, where)
        for literal, to_node_resource, where in prefixes:
            if literal in IGNORED_PREFIXES:
                continue
            if literal.endswith("/") and literal[:-1] in exact:
                routes.setdefault(literal + "{}", where)  # /api/users/<name> below /api/users
            else:
                fail(f"{where}: unrecognised route prefix \"{literal}\"; describe it in docs/openapi.yaml "
                     "and teach tests/docs/check_openapi.py how it maps to paths")
    return routes


def normalise(path):
    return re.sub(r"\{[^}]*\}", "{}", path)


def main():
    root = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", ".."))
    spec_path = os.path.join(root, "docs", "openapi.yaml")
    try:
        with open(spec_path, encoding="utf-8") as f:
            doc = yaml.safe_load(f)
    except (OSError, yaml.YAMLError) as e:
        print(f"check_openapi: cannot read {spec_path}: {e}", file=sys.stderr)
        return 1

    paths = check_structure(doc)
    implemented = implemented_routes(root)
    routed, routed_methods = router_routes(root)
    for path, where in routed.items():
        implemented.setdefault(path, where)
    # The router's methods against the description's operations.
    for path, item in paths.items():
        if not isinstance(path, str) or not isinstance(item, dict):
            continue
        wanted = routed_methods.get(normalise(path))
        if wanted is None:
            continue
        described_methods = {m for m in item if m in HTTP_METHODS and m not in ("head", "options")}
        for m in sorted(wanted - described_methods):
            fail(f"{m.upper()} {path} is implemented ({routed[normalise(path)]}) but not described")
        for m in sorted(described_methods - wanted):
            fail(f"{m.upper()} {path} is described but the router has no such route")
    described = {}
    for path in paths:
        if isinstance(path, str):
            described.setdefault(normalise(path), path)

    for route in sorted(set(implemented) - set(described)):
        fail(f"route {route.replace('{}', '{…}')} is implemented ({implemented[route]}) but missing from docs/openapi.yaml")
    for route in sorted(set(described) - set(implemented)):
        fail(f"path {described[route]} is in docs/openapi.yaml but the gateway does not implement it")

    if errors:
        for e in errors:
            print("check_openapi: " + e, file=sys.stderr)
        print(f"check_openapi: {len(errors)} problem(s) in docs/openapi.yaml", file=sys.stderr)
        return 1
    print(f"check_openapi: docs/openapi.yaml describes the {len(implemented)} implemented routes: "
          + ", ".join(sorted(described[r] for r in implemented)))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Extract the structural part of Xero's OpenAPI component schemas for the sandbox simulator.

Reads Xero's official ``xero_accounting.yaml`` (MIT, github.com/XeroAPI/Xero-OpenAPI) and writes
``clinic_etl/sandbox/xero/schema.json``: ``components.schemas`` with only the keywords that matter for
validating request bodies (no descriptions or examples), plus the upstream MIT notice under ``x-license``.
It also writes the same notice to ``clinic_etl/sandbox/xero/NOTICE``, and for the product (which never imports the
simulator) ``clinic_etl/xero/field_limits.json``: each schema's string fields with a ``maxLength`` and the
properties that lead to other such schemas. The product never reads the YAML at run time; run this script again
when the reference spec changes.

Usage: python scripts/extract_xero_schema.py [--spec PATH] [--source PATH] [--out-dir DIR]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

import yaml

REFERENCE_DIR = Path("/work/shared/reference/xero")
OUT_DIR = Path(__file__).resolve().parent.parent / "clinic_etl" / "sandbox" / "xero"
LIMITS_OUT = Path(__file__).resolve().parent.parent / "clinic_etl" / "xero" / "field_limits.json"

KEEP = {
    "type",
    "properties",
    "items",
    "enum",
    "format",
    "maxLength",
    "minLength",
    "maximum",
    "minimum",
    "$ref",
    "required",
    "readOnly",
    "allOf",
    "oneOf",
    "anyOf",
    "additionalProperties",
    "nullable",
}


def strip(node: Any) -> Any:
    """Keep only structural keywords; recurse into sub-schemas."""
    if isinstance(node, list):
        return [strip(item) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key not in KEEP:
            continue
        if key == "properties":
            out[key] = {name: strip(sub) for name, sub in value.items()}
        elif key in ("items", "additionalProperties") and isinstance(value, dict):
            out[key] = strip(value)
        elif key in ("allOf", "oneOf", "anyOf"):
            out[key] = [strip(sub) for sub in value]
        else:
            out[key] = value
    return out


def _ref(node: dict[str, Any]) -> str | None:
    ref = node.get("$ref") or (node.get("items") or {}).get("$ref")
    return ref.rsplit("/", 1)[-1] if isinstance(ref, str) else None


def field_limits(schemas: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """{schema: {property: maxLength | "<Schema>"}} for the schemas reachable from ones with bounded strings."""
    direct = {
        name: {
            prop: sub["maxLength"]
            for prop, sub in (body.get("properties") or {}).items()
            if isinstance(sub, dict) and isinstance(sub.get("maxLength"), int)
        }
        for name, body in schemas.items()
    }
    links = {
        name: {
            prop: ref
            for prop, sub in (body.get("properties") or {}).items()
            if isinstance(sub, dict) and (ref := _ref(sub)) and ref != name
        }
        for name, body in schemas.items()
    }
    bounded = {name for name, props in direct.items() if props}
    changed = True
    while changed:  # a schema matters when it bounds strings itself or leads to one that does
        before = len(bounded)
        bounded |= {name for name, refs in links.items() if set(refs.values()) & bounded}
        changed = len(bounded) != before
    return {
        name: {**direct[name], **{p: r for p, r in links[name].items() if r in bounded}} for name in sorted(bounded)
    }


def mit_notice(source_txt: str) -> str:
    """The MIT notice block quoted in SOURCE.txt, dedented."""
    match = re.search(r"^( *)MIT License\n(.*?SOFTWARE\.)\n", source_txt, re.S | re.M)
    if not match:
        raise SystemExit("MIT notice not found in SOURCE.txt")
    indent = len(match.group(1))
    lines = ("MIT License\n" + match.group(2)).splitlines()
    return "\n".join(line[indent:] if line.startswith(" " * indent) else line for line in lines) + "\n"


def source_info(source_txt: str, spec: dict[str, Any]) -> dict[str, str]:
    commit = re.search(r"Commit\s*:\s*([0-9a-f]{40})", source_txt)
    return {
        "repository": "github.com/XeroAPI/Xero-OpenAPI",
        "file": "xero_accounting.yaml",
        "commit": commit.group(1) if commit else "unknown",
        "version": str(spec.get("info", {}).get("version", "unknown")),
        "generator": "scripts/extract_xero_schema.py",
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spec", type=Path, default=REFERENCE_DIR / "xero_accounting.yaml")
    parser.add_argument("--source", type=Path, default=REFERENCE_DIR / "SOURCE.txt")
    parser.add_argument("--out-dir", type=Path, default=OUT_DIR)
    args = parser.parse_args(argv)

    spec = yaml.safe_load(args.spec.read_text(encoding="utf-8"))
    source_txt = args.source.read_text(encoding="utf-8")
    notice = mit_notice(source_txt)
    schemas = {name: strip(body) for name, body in spec["components"]["schemas"].items()}
    document = {
        "x-license": notice,
        "x-source": source_info(source_txt, spec),
        "components": {"schemas": schemas},
    }
    # default=str guards against YAML scalars PyYAML turns into dates; none should survive strip().
    text = json.dumps(document, indent=1, ensure_ascii=False, default=str) + "\n"
    args.out_dir.mkdir(parents=True, exist_ok=True)
    (args.out_dir / "schema.json").write_text(text, encoding="utf-8")
    header = (
        "The file schema.json in this folder is derived from xero_accounting.yaml in\n"
        f"github.com/XeroAPI/Xero-OpenAPI (commit {document['x-source']['commit']}, "
        f"version {document['x-source']['version']}),\n"
        "published by Xero under the MIT licence below. Descriptions and examples were removed;\n"
        "the structural keywords of components.schemas were kept unchanged.\n\n"
    )
    (args.out_dir / "NOTICE").write_text(header + notice, encoding="utf-8")
    print(f"wrote {len(schemas)} schemas to {args.out_dir / 'schema.json'} ({len(text)} bytes)")
    limits = {"x-source": document["x-source"], "schemas": field_limits(schemas)}
    LIMITS_OUT.write_text(json.dumps(limits, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote the field limits of {len(limits['schemas'])} schemas to {LIMITS_OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Regenerate src/pricing/builtin.toml from the public catalogs in
fixtures/catalogs (see docs/pricing.md, "Refreshing the built-in catalog").

    python3 scripts/refresh-builtin.py > src/pricing/builtin.toml
    cargo test --test pricing_catalogs builtin

Prices and limits come from LiteLLM's map where it lists the model under
the vendor's own name (its `max_input_tokens` is the input limit costgate
needs; genai-prices' `context_window` counts output too for OpenAI), else
from genai-prices (the set in force on AS_OF). The test then compares every
entry, id and alias, with both catalogs through costgate's own importers.
Standard library only.
"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
CAT = os.path.join(HERE, "..", "fixtures", "catalogs")
LITELLM_FILE = "litellm-1.110.2-prices-2026-11.json"
GENAI_FILE = "genai-prices-0.2.3-2026-11.json"
LITELLM = "LiteLLM 1.110.2"
GENAI = "genai-prices 0.2.3"
AS_OF = "2026-11-29"

OPENAI = "https://openai.com/api/pricing/"
ANTHROPIC = "https://www.anthropic.com/pricing#api"
GOOGLE = "https://ai.google.dev/gemini-api/docs/pricing"

# (id, provider, aliases, LiteLLM key, genai-prices id, vendor page, max output if no catalog gives it)
MODELS = [
    ("gpt-4o", "openai", ["gpt-4o-2024-08-06", "gpt-4o-2024-11-20"], "gpt-4o", "gpt-4o", OPENAI, None),
    ("gpt-4o-2024-05-13", "openai", [], "gpt-4o-2024-05-13", "gpt-4o-2024-05-13", OPENAI, None),
    ("chatgpt-4o-latest", "openai", [], None, "chatgpt-4o-latest", OPENAI, 16384),
    ("gpt-4o-mini", "openai", ["gpt-4o-mini-2024-07-18"], "gpt-4o-mini", "gpt-4o-mini", OPENAI, None),
    ("gpt-4.1", "openai", ["gpt-4.1-2025-04-14"], "gpt-4.1", "gpt-4.1", OPENAI, None),
    ("gpt-4.1-mini", "openai", ["gpt-4.1-mini-2025-04-14"], "gpt-4.1-mini", "gpt-4.1-mini", OPENAI, None),
    ("gpt-4.1-nano", "openai", ["gpt-4.1-nano-2025-04-14"], "gpt-4.1-nano", "gpt-4.1-nano", OPENAI, None),
    ("gpt-5", "openai", ["gpt-5-2025-08-07"], "gpt-5", "gpt-5", OPENAI, None),
    ("gpt-5-mini", "openai", ["gpt-5-mini-2025-08-07"], "gpt-5-mini", "gpt-5-mini", OPENAI, None),
    ("gpt-5-nano", "openai", ["gpt-5-nano-2025-08-07"], "gpt-5-nano", "gpt-5-nano", OPENAI, None),
    ("gpt-5.1", "openai", ["gpt-5.1-2025-11-13"], "gpt-5.1", "gpt-5.1", OPENAI, None),
    ("gpt-5.2", "openai", ["gpt-5.2-2025-12-11"], "gpt-5.2", "gpt-5.2", OPENAI, None),
    ("gpt-5.3", "openai", [], None, "gpt-5.3", OPENAI, 128000),
    ("gpt-5.4", "openai", [], "gpt-5.4", "gpt-5.4", OPENAI, None),
    ("gpt-5.4-mini", "openai", [], "gpt-5.4-mini", "gpt-5.4-mini", OPENAI, None),
    ("gpt-5.4-nano", "openai", [], "gpt-5.4-nano", "gpt-5.4-nano", OPENAI, None),
    ("gpt-5.4-pro", "openai", [], "gpt-5.4-pro", "gpt-5.4-pro", OPENAI, None),
    ("gpt-5.5", "openai", [], "gpt-5.5", "gpt-5.5", OPENAI, None),
    ("gpt-5.6", "openai", [], "gpt-5.6", "gpt-5.6-sol", OPENAI, None),
    ("o1", "openai", ["o1-2024-12-17"], "o1", "o1", OPENAI, None),
    ("o1-pro", "openai", ["o1-pro-2025-03-19"], "o1-pro", "o1-pro", OPENAI, None),
    ("o3", "openai", ["o3-2025-04-16"], "o3", "o3", OPENAI, None),
    ("o3-pro", "openai", ["o3-pro-2025-06-10"], "o3-pro", "o3-pro", OPENAI, None),
    ("o3-mini", "openai", ["o3-mini-2025-01-31"], "o3-mini", "o3-mini", OPENAI, None),
    ("o4-mini", "openai", ["o4-mini-2025-04-16"], "o4-mini", "o4-mini", OPENAI, None),
    ("claude-3-5-haiku", "anthropic", ["claude-3-5-haiku-20241022", "claude-3-5-haiku-latest", "claude-3.5-haiku"], None, "claude-3-5-haiku-latest", ANTHROPIC, 8192),
    ("claude-3-5-sonnet", "anthropic", ["claude-3-5-sonnet-20241022", "claude-3-5-sonnet-20240620", "claude-3-5-sonnet-latest", "claude-3.5-sonnet"], None, "claude-3-5-sonnet", ANTHROPIC, 8192),
    ("claude-3-7-sonnet", "anthropic", ["claude-3-7-sonnet-20250219", "claude-3-7-sonnet-latest", "claude-3.7-sonnet"], None, "claude-3-7-sonnet-latest", ANTHROPIC, 64000),
    ("claude-3-opus", "anthropic", ["claude-3-opus-20240229", "claude-3-opus-latest"], None, "claude-3-opus-latest", ANTHROPIC, 4096),
    ("claude-sonnet-4", "anthropic", ["claude-sonnet-4-20250514", "claude-sonnet-4-0", "claude-4-sonnet"], None, "claude-sonnet-4-0", ANTHROPIC, 64000),
    ("claude-opus-4", "anthropic", ["claude-opus-4-20250514", "claude-opus-4-0", "claude-4-opus"], None, "claude-opus-4-0", ANTHROPIC, 32000),
    ("claude-opus-4-1", "anthropic", ["claude-opus-4-1-20250805", "claude-opus-4.1"], None, "claude-opus-4-1", ANTHROPIC, 32000),
    ("claude-sonnet-4-5", "anthropic", ["claude-sonnet-4-5-20250929", "claude-sonnet-4.5"], "claude-sonnet-4-5", "claude-sonnet-4-5", ANTHROPIC, None),
    ("claude-haiku-4-5", "anthropic", ["claude-haiku-4-5-20251001", "claude-haiku-4.5"], "claude-haiku-4-5", "claude-haiku-4-5", ANTHROPIC, None),
    ("claude-opus-4-5", "anthropic", ["claude-opus-4-5-20251101", "claude-opus-4.5"], "claude-opus-4-5", "claude-opus-4-5", ANTHROPIC, None),
    ("claude-sonnet-4-6", "anthropic", ["claude-sonnet-4.6"], "claude-sonnet-4-6", "claude-sonnet-4-6", ANTHROPIC, None),
    ("claude-opus-4-6", "anthropic", ["claude-opus-4.6"], "claude-opus-4-6", "claude-opus-4-6", ANTHROPIC, None),
    ("claude-opus-4-7", "anthropic", ["claude-opus-4.7"], "claude-opus-4-7", "claude-opus-4-7", ANTHROPIC, None),
    ("claude-opus-4-8", "anthropic", ["claude-opus-4.8"], "claude-opus-4-8", "claude-opus-4-8", ANTHROPIC, None),
    ("claude-sonnet-5", "anthropic", [], "claude-sonnet-5", "claude-sonnet-5", ANTHROPIC, None),
    ("claude-opus-5", "anthropic", [], "claude-opus-5", "claude-opus-5", ANTHROPIC, None),
    ("gemini-2.0-flash", "google", ["gemini-2.0-flash-001"], None, "gemini-2.0-flash", GOOGLE, 8192),
    ("gemini-2.0-flash-lite", "google", ["gemini-2.0-flash-lite-001"], None, "gemini-2.0-flash-lite", GOOGLE, 8192),
    ("gemini-2.5-flash", "google", [], "gemini/gemini-2.5-flash", "gemini-2.5-flash", GOOGLE, None),
    ("gemini-2.5-flash-lite", "google", [], "gemini/gemini-2.5-flash-lite", "gemini-2.5-flash-lite", GOOGLE, None),
    ("gemini-2.5-pro", "google", [], "gemini/gemini-2.5-pro", "gemini-2.5-pro", GOOGLE, None),
    ("gemini-3-pro-preview", "google", [], None, "gemini-3-pro-preview", GOOGLE, 65536),
    ("gemini-3-flash-preview", "google", [], "gemini/gemini-3-flash-preview", "gemini-3-flash-preview", GOOGLE, None),
    ("gemini-3.1-pro-preview", "google", [], "gemini/gemini-3.1-pro-preview", "gemini-3.1-pro-preview", GOOGLE, None),
    ("gemini-3.1-flash-lite", "google", [], "gemini/gemini-3.1-flash-lite", "gemini-3.1-flash-lite", GOOGLE, None),
    ("gemini-3.5-flash", "google", [], "gemini/gemini-3.5-flash", "gemini-3.5-flash", GOOGLE, None),
    ("gemini-3.5-flash-lite", "google", [], "gemini/gemini-3.5-flash-lite", "gemini-3.5-flash-lite", GOOGLE, None),
]

# Limits no catalog gives, from the vendor page.
WINDOW = {"gemini-3-pro-preview": 1048576}

FIELDS = ["input", "output", "cached_input", "cache_write"]
LITELLM_FIELDS = ["input_cost_per_token", "output_cost_per_token", "cache_read_input_token_cost", "cache_creation_input_token_cost"]
GENAI_FIELDS = ["input_mtok", "output_mtok", "cache_read_mtok", "cache_write_mtok"]


def mtok(x):
    return round(x * 1e6, 6)


def from_litellm(e):
    base = {f: (mtok(e[k]) if e.get(k) is not None else None) for f, k in zip(FIELDS, LITELLM_FIELDS)}
    above = None
    for f, k in zip(FIELDS, LITELLM_FIELDS):
        for key, v in e.items():
            if key.startswith(k + "_above_") and key.endswith("k_tokens") and key[len(k) + 7:-8].isdigit():
                t = int(key[len(k) + 7:-8]) * 1000
                if above is None:
                    above = {"threshold": t}
                assert above["threshold"] == t, "several long-context thresholds: model by hand"
                above[f] = mtok(v)
    if above:
        for f in FIELDS:
            above.setdefault(f, base[f])
    return base, above, e.get("max_input_tokens"), e.get("max_output_tokens")


def from_genai(m):
    prices = m["prices"]
    if isinstance(prices, list):
        in_force = [c["prices"] for c in prices
                    if (c.get("constraint") or {}).get("start_date", "0000")[:10] <= AS_OF
                    and (c.get("constraint") or {}).get("end_date", "9999")[:10] > AS_OF
                    and not {"start_time", "end_time"} & set((c.get("constraint") or {}))]
        prices = in_force[-1]
    base, above = {}, None
    for f, k in zip(FIELDS, GENAI_FIELDS):
        v = prices.get(k)
        if isinstance(v, dict):
            assert len(v["tiers"]) == 1, "several tiers: model by hand"
            t = v["tiers"][0]
            if above is None:
                above = {"threshold": t["start"]}
            assert above["threshold"] == t["start"]
            above[f] = t["price"]
            v = v["base"]
        base[f] = v
    if above:
        for f in FIELDS:
            above.setdefault(f, base[f])
    return base, above, m.get("context_window"), None


def num(v):
    if float(v).is_integer() and abs(v) < 1e15:
        return str(int(v))
    return repr(float(v))


def main():
    lite = json.load(open(os.path.join(CAT, LITELLM_FILE)))
    genai = {}
    for p in json.load(open(os.path.join(CAT, GENAI_FILE))):
        for m in p["models"]:
            genai.setdefault((p["id"], m["id"]), m)
    out = sys.stdout
    out.write(HEADER)
    section = None
    for mid, prov, aliases, lkey, gid, page, max_out in MODELS:
        if prov != section:
            section = prov
            out.write("\n# " + "-" * 60 + " " + prov + "\n")
        g = genai.get((prov, gid)) if gid else None
        l = lite.get(lkey) if lkey else None
        if lkey and l is None:
            sys.exit(f"{mid}: LiteLLM has no `{lkey}`")
        if gid and g is None:
            sys.exit(f"{mid}: genai-prices has no `{prov}/{gid}`")
        if l is not None:
            base, above, window, mo = from_litellm(l)
            took = f"{LITELLM} `{lkey}`"
        else:
            base, above, window, mo = from_genai(g)
            took = f"{GENAI} `{prov}/{gid}`"
        also = [c for c, present in ((LITELLM, l is not None), (GENAI, g is not None)) if present]
        if window is None and g is not None:
            window = g.get("context_window")
        mo = mo or max_out
        window = window or WINDOW.get(mid)
        # a tier that starts at or past the window can never apply
        if above and window and above["threshold"] >= window:
            above = None
        out.write("\n[[models]]\n")
        out.write(f'id = "{mid}"\nprovider = "{prov}"\n')
        if aliases:
            out.write("aliases = [" + ", ".join(f'"{a}"' for a in aliases) + "]\n")
        for f in FIELDS:
            if base.get(f) is not None:
                out.write(f"{f}_usd_per_mtok = {num(base[f])}\n")
        if window:
            out.write(f"context_window = {num(window)}\n")
        if mo:
            out.write(f"max_output_tokens = {num(mo)}\n")
        out.write(f'source = "{page} (prices from {took}; listed by {" and ".join(also)}; {AS_OF})"\n')
        if above:
            out.write("[models.above]\n")
            out.write(f"threshold_tokens = {num(above['threshold'])}\n")
            for f in FIELDS:
                if above.get(f) is not None:
                    out.write(f"{f}_usd_per_mtok = {num(above[f])}\n")


HEADER = f"""# costgate's built-in price catalog (format: costgate-prices/1).
#
# GENERATED by scripts/refresh-builtin.py from the public catalogs in
# fixtures/catalogs ({LITELLM} and {GENAI}, both as of 2026-11); edit the
# script's table, not this file (docs/pricing.md, "Refreshing the built-in
# catalog"). Each entry's `source` names the vendor page, the catalog entry
# its figures come from, which catalogs list it, and the day it was checked.
# tests/pricing_catalogs.rs compares every entry, id and alias, with both
# catalogs and fails on any difference that is not documented there.
#
# Prices are USD per million tokens. `context_window` is the input limit.
# `above`: long-context pricing. When one request's input exceeds
# `threshold_tokens`, every token of that request is billed at these rates.
# A missing cache price means costgate bills cached tokens at the full input
# price (no discount is assumed that the vendor does not publish).
# A name resolves only to an entry's id or one of its aliases: a dated
# snapshot priced differently (gpt-4o-2024-05-13) is an entry of its own.

format = "costgate-prices/1"
name = "costgate built-in"
checked = "{AS_OF}"
"""

if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""Generates examples/v2.1-test-topology.json, the large benchmark topology.

A service-provider network over 16 real metro regions, in three tiers:

  core         NODES x CORE_SHARE routers, spread evenly over the regions. Inside a region
               they form a ring; across regions they are wired by preferential attachment
               (Barabasi-Albert, CORE_M links per new router, chosen with probability
               proportional to degree + 1), which gives the heavy-tailed core of real
               backbones. LAG_BUNDLES extra parallel links double some intra-region pairs.
  aggregation  NODES x AGG_SHARE routers, each dual-homed to two distinct core routers of its
               region, picked by preferential attachment.
  access       the rest; each homes to one aggregation router of its region (two with
               probability ACCESS_DUAL_HOMED), picked by preferential attachment.

Coordinates are the region's city centre plus a deterministic jitter (larger for access);
link latency_ms is the great-circle distance at 2/3 the speed of light, plus 0.05 ms.
Every value comes from random.Random(SEED), so a run with the same parameters rewrites the
file byte for byte. Standard library only; run with /usr/bin/python3.

  scripts/gen-topology.py              rewrite examples/v2.1-test-topology.json
  scripts/gen-topology.py --check      exit 1 if the committed file differs from a fresh run
  scripts/gen-topology.py -o FILE      write elsewhere (also --nodes, --seed)
"""

import argparse
import json
import math
import os
import random
import sys

SEED = 21
NODES = 2000
CORE_SHARE = 0.04
AGG_SHARE = 0.20
CORE_M = 2
LAG_BUNDLES = 24
ACCESS_DUAL_HOMED = 0.9
DOWN_SHARE = 0.01          # access nodes and links reported down at snapshot time
MAX_BYTES = 2 * 1024 * 1024
TIMESTAMP = "2026-03-01T00:00:00Z"
BASE_ASN = 64600           # one private AS per region

# (site code, city, latitude, longitude)
REGIONS = [
    ("fra", "Frankfurt", 50.1109, 8.6821),
    ("ams", "Amsterdam", 52.3676, 4.9041),
    ("lon", "London", 51.5072, -0.1276),
    ("par", "Paris", 48.8566, 2.3522),
    ("mad", "Madrid", 40.4168, -3.7038),
    ("mil", "Milan", 45.4642, 9.1900),
    ("waw", "Warsaw", 52.2297, 21.0122),
    ("sto", "Stockholm", 59.3293, 18.0686),
    ("nyc", "New York", 40.7128, -74.0060),
    ("iad", "Ashburn", 39.0438, -77.4874),
    ("chi", "Chicago", 41.8781, -87.6298),
    ("dfw", "Dallas", 32.7767, -96.7970),
    ("lax", "Los Angeles", 34.0522, -118.2437),
    ("sea", "Seattle", 47.6062, -122.3321),
    ("sin", "Singapore", 1.3521, 103.8198),
    ("tyo", "Tokyo", 35.6762, 139.6503),
]

CAPACITY = {"core": 12_800_000_000_000, "aggregation": 3_200_000_000_000,
            "access": 400_000_000_000}
LINK_CAPACITY = {("core", "core"): 400_000_000_000, ("aggregation", "core"): 100_000_000_000}


def haversine_km(a, b):
    lat1, lon1, lat2, lon2 = map(math.radians, (a[0], a[1], b[0], b[1]))
    h = (math.sin((lat2 - lat1) / 2) ** 2 +
         math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2)
    return 2 * 6371.0 * math.asin(math.sqrt(h))


class Graph:
    def __init__(self):
        self.nodes = []      # dicts, in id order of creation
        self.index = {}      # id -> position
        self.degree = []
        self.links = []

    def add_node(self, node):
        self.index[node["id"]] = len(self.nodes)
        self.nodes.append(node)
        self.degree.append(0)

    def add_link(self, a, b, rng, capacity, may_be_down=False):
        na, nb = self.nodes[self.index[a]], self.nodes[self.index[b]]
        km = haversine_km((na["latitude"], na["longitude"]), (nb["latitude"], nb["longitude"]))
        link = {"source": a, "target": b, "capacity": capacity,
                "status": "down" if may_be_down and rng.random() < DOWN_SHARE else "up",
                "attributes": {"latency_ms": round(km / 200.0 + 0.05, 2)}}
        self.links.append(link)
        self.degree[self.index[a]] += 1
        self.degree[self.index[b]] += 1

    def pick(self, rng, candidates, exclude=()):
        """One of candidates, with probability proportional to degree + 1."""
        pool = [c for c in candidates if c not in exclude]
        weights = [self.degree[self.index[c]] + 1 for c in pool]
        return rng.choices(pool, weights=weights)[0]


def split(total, parts):
    """total as `parts` near-equal integers, larger first."""
    base, extra = divmod(total, parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]


def make_node(rng, region_index, role, number, spread):
    site, city, lat, lon = REGIONS[region_index]
    short = {"core": "core", "aggregation": "agg", "access": "acc"}[role]
    width = {"core": 2, "aggregation": 3, "access": 4}[role]
    node = {"id": f"{site}-{short}-{number:0{width}d}"}
    if role == "core":
        node["label"] = f"{city} core {number}"
    node.update({
        "role": role,
        "asn": BASE_ASN + region_index,
        "site": site,
        "latitude": round(lat + rng.uniform(-spread, spread), 4),
        "longitude": round(lon + rng.uniform(-spread, spread), 4),
        "capacity": CAPACITY[role],
        "status": "down" if role == "access" and rng.random() < DOWN_SHARE else "up",
    })
    return node


def generate(n_nodes, seed):
    rng = random.Random(seed)
    g = Graph()
    n_regions = len(REGIONS)
    n_core = max(3 * n_regions, round(n_nodes * CORE_SHARE))
    n_agg = round(n_nodes * AGG_SHARE)
    n_access = n_nodes - n_core - n_agg
    if n_access < n_regions:
        raise SystemExit("gen-topology: --nodes is too small for three tiers in 16 regions")

    core = [[] for _ in REGIONS]
    agg = [[] for _ in REGIONS]
    for r, count in enumerate(split(n_core, n_regions)):
        for k in range(count):
            node = make_node(rng, r, "core", k + 1, 0.05)
            g.add_node(node)
            core[r].append(node["id"])
    for r, count in enumerate(split(n_agg, n_regions)):
        for k in range(count):
            node = make_node(rng, r, "aggregation", k + 1, 0.08)
            g.add_node(node)
            agg[r].append(node["id"])
    access = [[] for _ in REGIONS]
    for r, count in enumerate(split(n_access, n_regions)):
        for k in range(count):
            node = make_node(rng, r, "access", k + 1, 0.5)
            g.add_node(node)
            access[r].append(node["id"])

    cc = LINK_CAPACITY[("core", "core")]
    for ring in core:
        for k in range(len(ring)):
            g.add_link(ring[k], ring[(k + 1) % len(ring)], rng, cc)
    # preferential attachment across the whole core, in a fixed interleaved order
    order = [core[r][k] for k in range(max(map(len, core))) for r in range(n_regions)
             if k < len(core[r])]
    for i in range(CORE_M + 1, len(order)):
        chosen = set()
        while len(chosen) < CORE_M:
            chosen.add(g.pick(rng, order[:i], exclude=chosen | {order[i]}))
        for c in sorted(chosen):
            g.add_link(order[i], c, rng, cc)
    for _ in range(LAG_BUNDLES):
        ring = core[rng.randrange(n_regions)]
        k = rng.randrange(len(ring))
        g.add_link(ring[k], ring[(k + 1) % len(ring)], rng, cc)

    ac = LINK_CAPACITY[("aggregation", "core")]
    for r in range(n_regions):
        for a in agg[r]:
            first = g.pick(rng, core[r])
            second = g.pick(rng, core[r], exclude={first})
            g.add_link(first, a, rng, ac)
            g.add_link(second, a, rng, ac)
    for r in range(n_regions):
        for x in access[r]:
            cap = rng.choice((10_000_000_000, 25_000_000_000))
            first = g.pick(rng, agg[r])
            g.add_link(first, x, rng, cap, may_be_down=True)
            if rng.random() < ACCESS_DUAL_HOMED:
                g.add_link(g.pick(rng, agg[r], exclude={first}), x, rng, cap, may_be_down=True)
    return g


def render(g):
    """One node or link per line: small diffs, still easy to read."""
    def item(obj):
        return json.dumps(obj, ensure_ascii=False, separators=(", ", ": "))

    out = ['{\n  "type": "snapshot",\n  "version": 1,\n',
           f'  "timestamp": "{TIMESTAMP}",\n',
           '  "name": "v2.1-test-topology",\n  "nodes": [\n']
    out.append(",\n".join("    " + item(n) for n in g.nodes))
    out.append('\n  ],\n  "links": [\n')
    out.append(",\n".join("    " + item(link) for link in g.links))
    out.append("\n  ]\n}\n")
    return "".join(out).encode("utf-8")


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    default = os.path.join(here, "..", "examples", "v2.1-test-topology.json")
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-o", "--output", default=default)
    ap.add_argument("--nodes", type=int, default=NODES)
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--check", action="store_true",
                    help="compare with the existing file instead of writing it")
    args = ap.parse_args()

    g = generate(args.nodes, args.seed)
    data = render(g)
    if len(data) > MAX_BYTES:
        raise SystemExit(f"gen-topology: {len(data)} bytes, over the {MAX_BYTES} byte budget")
    if args.check:
        try:
            with open(args.output, "rb") as f:
                same = f.read() == data
        except OSError as e:
            print(f"gen-topology: {e}", file=sys.stderr)
            return 1
        print(f"gen-topology: {args.output} {'matches' if same else 'DIFFERS from'} a fresh run")
        return 0 if same else 1
    with open(args.output, "wb") as f:
        f.write(data)
    print(f"gen-topology: wrote {args.output} ({len(data)} bytes, {len(g.nodes)} nodes, "
          f"{len(g.links)} links)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

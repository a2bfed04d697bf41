#!/usr/bin/env python3
"""Builds ../borders.tsv.gz, the country borders enrichment uses to place
bare coordinates, from Natural Earth's 1:50m admin-0 countries as packaged
by the npm package world-atlas (countries-50m.json, TopoJSON) and the ISO
3166 codes of the PyPI package pycountry.

    npm pack world-atlas@2.0.2 && tar xzf world-atlas-2.0.2.tgz
    pip download pycountry==26.2.16 --no-deps && unzip -o pycountry-*.whl -d pycountry
    python3 gen.py package/countries-50m.json pycountry/pycountry/databases/iso3166-1.json

One line per country: the ISO 3166-1 alpha-2 code, a tab, and its rings
separated by '|', each ring "lon,lat;lon,lat;…" in degrees with two
decimals (about a kilometre). Holes are rings too: a point is inside when
an odd number of the country's rings contain it.
"""
import gzip
import json
import sys

topo = json.load(open(sys.argv[1]))
iso = json.load(open(sys.argv[2]))["3166-1"]
numeric = {c["numeric"]: c["alpha_2"] for c in iso}
# Areas without an ISO numeric code in Natural Earth: their de facto or
# customary codes.
by_name = {"Kosovo": "XK", "Somaliland": "SO", "N. Cyprus": "CY", "Indian Ocean Ter.": "AU", "Siachen Glacier": "IN"}

sx, sy = topo["transform"]["scale"]
tx, ty = topo["transform"]["translate"]
arcs = []
for arc in topo["arcs"]:  # delta-encoded, quantized
    x = y = 0
    pts = []
    for dx, dy in arc:
        x += dx
        y += dy
        pts.append((x * sx + tx, y * sy + ty))
    arcs.append(pts)


def ring(indexes):
    pts = []
    for i in indexes:
        a = arcs[i] if i >= 0 else list(reversed(arcs[~i]))
        pts.extend(a if not pts else a[1:])
    return pts


rings_of = {}
for g in topo["objects"]["countries"]["geometries"]:
    code = numeric.get(g.get("id")) or by_name.get(g["properties"]["name"])
    if not code:
        print("skipped", g["properties"]["name"], file=sys.stderr)
        continue
    polys = g["arcs"] if g["type"] == "MultiPolygon" else [g["arcs"]]
    for poly in polys:
        for r in poly:
            rings_of.setdefault(code, []).append(ring(r))

with gzip.open("../borders.tsv.gz", "wt", compresslevel=9) as out:
    for code in sorted(rings_of):
        rs = []
        for r in rings_of[code]:
            pts = []
            for lon, lat in r:
                p = f"{lon:.2f},{lat:.2f}"
                if not pts or pts[-1] != p:
                    pts.append(p)
            if len(pts) >= 4:
                rs.append(";".join(pts))
        out.write(code + "\t" + "|".join(rs) + "\n")
print(len(rings_of), "countries", file=sys.stderr)

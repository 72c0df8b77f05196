# A hand-made graph in the Topology Zoo's style with each handled mess case once
# (test_io_gml.c counts them; test_zoo_import.py uses it to probe `netassure convert`).
Creator "NetAssure tests"
Version "1.0"
graph [
  label "ZooLike"
  Network "Zoo &amp; Like"
  multigraph 1
  node [
    id 0
    label "Amsterdam"
    Country "Netherlands"
    Longitude 4.88969
    Internal 1
    Latitude 52.37403
  ]
  node [
    id 1
    label "Frankfurt &quot;FRA&quot;"
    Longitude "8.68417"
    Latitude "50.11552"
    Internal 1
  ]
  node [
    id 2
    label "Hyper"
    hyperedge 1
    Internal 1
    graphics [ x 1.0 y 2.0 ]
  ]
  node [
    id 3
    label "Nowhere"
    Latitude "unknown"
    Longitude 10.5
    asn "AS65001"
    role "core"
    status "up"
  ]
  node [
    id 4
    label "Lonely"
  ]
  edge [
    source 0
    target 1
    LinkLabel "10G"
    LinkSpeed "10"
    LinkSpeedUnits "G"
    LinkSpeedRaw 10000000000.0
  ]
  edge [
    source 1
    target 0
    LinkSpeed "2.5"
    LinkSpeedUnits "G"
  ]
  edge [
    source 2
    target 2
  ]
  edge [
    source 0
    target 3
    id "e9"
    LinkSpeedRaw "155000000"
    LinkNote "leased"
  ]
  edge [
    source 3
    target 1
    LinkSpeed "34"
    LinkSpeedUnits "M"
  ]
]

# comments, entities, reals, nested lists, a self-loop, parallel links
Creator "x"
graph [
  label "M &amp; &#233;"
  directed 1
  node [ id 0 label "A" Latitude 1.5 Longitude "2.5e1" graphics [ x 1 y [ z -INF ] ] ]
  node [ id 1 label 7 Latitude "n/a" asn "AS1" status "down" ]
  node [ id 2 ]
  edge [ source 0 target 1 LinkSpeed "10" LinkSpeedUnits "G" ]
  edge [ source 1 target 0 id "e" LinkSpeedRaw 1E9 LinkLabel "x" label "y" ]
  edge [ source 2 target 2 id 5 ]
]
graph [ node [ id 3 ] ]

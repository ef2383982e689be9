"""Field visits (外访): requests, scheduling under the gate, routes, and the visit record."""

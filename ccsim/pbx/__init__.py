"""The simulation world: a SimPy model of the center driving the pure ACD."""

"""The live world: asyncio transports binding the pure core to a PBX over CSTA."""

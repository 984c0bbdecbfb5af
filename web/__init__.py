"""`lpr serve`: a read-only web page over the event store and the bus: live plates, search, camera health."""

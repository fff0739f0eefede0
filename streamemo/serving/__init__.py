"""The websocket servers: ``streamemo serve`` (``command``: audio in on ``/audio``, one
stream per connection, ``streams`` and ``session``; the models and ``[serve] sinks``
shared by every stream, ``shared``; the wire format, ``wire``) and the event server
behind it and the ``ws`` sink (``event_server``, its HTTP side ``gate``, the per-client
queues ``broadcast``, the options of both ``options``)."""

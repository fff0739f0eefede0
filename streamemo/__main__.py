from streamemo.cli import entry

entry()

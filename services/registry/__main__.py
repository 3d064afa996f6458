from services.registry.app import create

create().run()

from services.operations.app import create

create().run()

from services.levels.app import create

create().run()

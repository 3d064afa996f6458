from services.notifications.app import create

create().run()

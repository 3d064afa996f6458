from services.meetings.app import create

create().run()

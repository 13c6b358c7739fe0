"""The WSGI entry for gunicorn (`egovsad serve`): the app of $EGOVSAD_HOME."""

from dashboard.app import create_app
from egovsad import config as configuration

app = create_app(configuration.load()).server

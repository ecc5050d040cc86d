// edgemon dashboard entry point: wires the gateway connection, the fleet store and the view.
import './style.css';
import { Connection, gatewaySocketUrl } from './connection';
import { FleetStore } from './store';
import { DashboardView } from './view';

const view = new DashboardView();
const store = new FleetStore(view);
const connection = new Connection({
  url: gatewaySocketUrl(),
  onMessage: (msg) => store.apply(msg),
  onState: (state) => view.setConnState(state),
});

connection.start();
setInterval(() => view.tick(), 1000);

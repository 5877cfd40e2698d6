// Imported first by main.tsx, so this runs before the rest of the app is evaluated: on a player
// address the play session is asked for now, while React and the pages load (lib/play-session.ts).
import { startPlayEarly } from './play-session';

startPlayEarly();

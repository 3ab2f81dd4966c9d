// The console page: the shell and, through it, every component. A host that embeds only some
// components imports them one by one (see README, "Embedding the console").
import './dynamics365-console.js';

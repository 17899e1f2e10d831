import express, { type Express } from 'express';
import { mountDecisionRoutes } from '../access/decision-routes.js';
import { mountAccessRoutes } from '../access/routes.js';
import { mountAffiliationRoutes } from '../affiliation/routes.js';
import { mountAuditRoutes } from '../audit/routes.js';
import { mountConsole } from '../console/routes.js';
import { mountPasskeyRoutes } from '../credentials/passkey-routes.js';
import { mountCredentialRoutes } from '../credentials/routes.js';
import { mountSharedSecretRoutes } from '../credentials/shared-secret-routes.js';
import { mountDetectionRoutes } from '../detection/routes.js';
import { mountEmergencyRoutes } from '../emergency/routes.js';
import { mountHrRoutes } from '../hr/routes.js';
import { mountOpsRoutes } from '../ops/routes.js';
import { mountOutboxRoutes } from '../outbox/routes.js';
import { mountReviewRoutes } from '../reviews/routes.js';
import type { AppDeps } from './deps.js';
import { notFoundHandler, problemHandler } from './problem.js';
import { requestContext } from './request-context.js';
import { RouteTable } from './route.js';

export const VERSION = '0.1.0';

export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  app.use(requestContext(deps.logger, deps.metrics));
  app.use((_req, res, next) => {
    res.setHeader('x-content-type-options', 'nosniff');
    res.setHeader('cache-control', 'no-store');
    next();
  });

  const router = express.Router();
  const table = new RouteTable();
  mountOpsRoutes(router, table, deps, VERSION);
  mountAffiliationRoutes(router, table, deps);
  mountHrRoutes(router, table, deps);
  mountAccessRoutes(router, table, deps);
  mountDecisionRoutes(router, table, deps);
  mountEmergencyRoutes(router, table, deps);
  mountDetectionRoutes(router, table, deps);
  mountCredentialRoutes(router, table, deps);
  mountPasskeyRoutes(router, table, deps);
  mountSharedSecretRoutes(router, table, deps);
  mountAuditRoutes(router, table, deps);
  mountOutboxRoutes(router, table, deps);
  mountReviewRoutes(router, table, deps);
  // The console's pages (and, in demo mode, the development OpenID Provider under /dev-idp).
  mountConsole(router, deps);
  app.use(router);

  app.use(notFoundHandler);
  app.use(problemHandler(deps.logger));
  return app;
}

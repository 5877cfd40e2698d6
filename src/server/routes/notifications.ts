// /api/notifications: targets (URLs stored server-side, answered redacted) and "Send test".
// A Marquee built without a notification service (some tests) answers 503 on each route.
import type { FastifyPluginAsync } from 'fastify';
import type { AppContext } from '../context.js';
import { HttpError, notFound, parseInput } from '../errors.js';
import { addNotificationTargetBody, notificationTargetIdParams, patchNotificationTargetBody } from '../../api/requests.js';
import type { ApiNotificationEvent, ApiNotificationTarget, ApiNotificationTargets, ApiNotificationTestResult } from '../../api/types.js';
import type { NotificationService, TargetResult, TargetView } from '../../notifications/service.js';

/** What the routes need of the notification service. */
export type NotificationsControl = Pick<NotificationService, 'listTargets' | 'addTarget' | 'updateTarget' | 'deleteTarget' | 'sendTest' | 'supportedSchemes'>;

function toApiTarget(target: TargetView): ApiNotificationTarget {
  return { ...target, events: target.events === null ? null : target.events.filter((e): e is ApiNotificationEvent => e !== 'test') };
}

function answer(result: TargetResult): ApiNotificationTarget {
  if (result.ok) return toApiTarget(result.target);
  if (result.code === 'invalid_url') throw new HttpError(400, 'invalid_url', result.message);
  throw new HttpError(404, 'not_found', result.message);
}

export const notificationRoutes: FastifyPluginAsync<{ ctx: AppContext }> = async (app, { ctx }) => {
  const service = (): NotificationsControl => {
    if (!ctx.notifications) throw new HttpError(503, 'notifications_unavailable', 'Notifications are not available in this Marquee.');
    return ctx.notifications;
  };

  app.get('/api/notifications/targets', async (): Promise<ApiNotificationTargets> => {
    const notifications = service();
    return { targets: notifications.listTargets().map(toApiTarget), supportedSchemes: [...notifications.supportedSchemes] };
  });

  app.post('/api/notifications/targets', async (request, reply) => {
    const body = parseInput(addNotificationTargetBody, request.body, 'body');
    const created = answer(service().addTarget(body));
    request.log.info({ targetId: created.id, url: created.url }, 'notification target added');
    return reply.status(201).send(created);
  });

  app.patch('/api/notifications/targets/:id', async (request) => {
    const { id } = parseInput(notificationTargetIdParams, request.params, 'params');
    const patch = parseInput(patchNotificationTargetBody, request.body, 'body');
    return answer(service().updateTarget(id, patch));
  });

  app.delete('/api/notifications/targets/:id', async (request, reply) => {
    const { id } = parseInput(notificationTargetIdParams, request.params, 'params');
    if (!service().deleteTarget(id)) throw notFound('notification target', id);
    return reply.status(204).send();
  });

  app.post('/api/notifications/targets/:id/test', async (request): Promise<ApiNotificationTestResult> => {
    const { id } = parseInput(notificationTargetIdParams, request.params, 'params');
    const sent = await service().sendTest(id);
    if (!sent.ok) throw notFound('notification target', id);
    const { result } = sent;
    return result.ok ? { ok: true, message: result.detail, status: result.status ?? null } : { ok: false, message: result.message, status: result.status ?? null };
  });
};

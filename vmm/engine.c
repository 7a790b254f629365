#include "engine.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine_qemu.h"
#include "errf.h"

/* The engines, best first: "auto" takes the first that serves this host. */
static const struct engine_ops *const engines[] = {
	&engine_qemu_ops,
};

struct engine {
	const struct engine_ops *ops;
	void *priv;
};

struct engine *engine_new(const struct engine_env *env, int *status, char *err, size_t errlen)
{
	const struct engine_ops *ops = NULL;
	struct engine *e;

	*status = VMM_EXIT_ERROR;
	for (size_t i = 0; i < sizeof(engines) / sizeof(engines[0]) && !ops; i++)
		if (engines[i]->serves(env->cfg, err, errlen))
			ops = engines[i];
	if (!ops)
		return NULL;    /* the last refusal is in err */
	e = calloc(1, sizeof(*e));
	if (!e) {
		errf(err, errlen, "out of memory");
		return NULL;
	}
	e->ops = ops;
	e->priv = ops->prepare(env, status, err, errlen);
	if (!e->priv) {
		free(e);
		return NULL;
	}
	return e;
}

void engine_free(struct engine *e)
{
	if (!e)
		return;
	e->ops->free(e->priv);
	free(e);
}

int engine_attach(struct engine *e, const char *vhost_user_type, int fd)
{
	return e->ops->attach(e->priv, vhost_user_type, fd);
}

int engine_start(struct engine *e, char *err, size_t errlen)
{
	return e->ops->start(e->priv, err, errlen);
}

void engine_stop(struct engine *e)
{
	e->ops->stop(e->priv);
}

int engine_pause(struct engine *e)
{
	return e->ops->pause ? e->ops->pause(e->priv) : -ENOTSUP;
}

int engine_resume(struct engine *e)
{
	return e->ops->resume ? e->ops->resume(e->priv) : -ENOTSUP;
}

int engine_add_net(struct engine *e, int tap_fd)
{
	if (e->ops->add_net)
		return e->ops->add_net(e->priv, tap_fd);
	close(tap_fd);
	return -ENOTSUP;
}

const char *engine_describe(const struct engine *e)
{
	return e->ops->describe(e->priv);
}

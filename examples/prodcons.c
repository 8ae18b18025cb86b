// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Producer/consumer over a kipc message queue: the parent produces numbered
 * messages, a forked child consumes them and reports their sum through its
 * exit status.  The queue is anonymous: the fd inherited over fork() is
 * the only handle, and the queue goes away with the last close.
 *
 *   prodcons [COUNT]
 */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <kipc.h>

struct item {
	unsigned int seq;
	unsigned int last;
};

static int consume(int q)
{
	unsigned long long sum = 0;
	unsigned int expect = 0;
	struct item it;

	for (;;) {
		if (kipc_receive(q, &it, sizeof(it), NULL, 0, NULL, 0) !=
		    sizeof(it)) {
			perror("prodcons: receive");
			return 2;
		}
		/* One producer, equal priorities: FIFO order. */
		if (it.seq != expect++) {
			fprintf(stderr, "prodcons: got %u, expected %u\n",
				it.seq, expect - 1);
			return 3;
		}
		sum += it.seq;
		if (it.last)
			break;
	}
	printf("consumer: %u items, sum %llu\n", expect, sum);
	fflush(stdout);	/* the child leaves with _exit() */
	return 0;
}

int main(int argc, char **argv)
{
	struct kipc_queue_attr attr = { .max_msgs = 8,
					.max_msgsize = sizeof(struct item) };
	unsigned int i, count = argc > 1 ? strtoul(argv[1], NULL, 0) : 1000;
	int q, status;
	pid_t pid;

	if (!count)
		count = 1;
	q = kipc_queue_open(NULL, KIPC_O_CREAT | KIPC_O_RDWR | KIPC_O_CLOEXEC,
			    0600, &attr);
	if (q < 0) {
		fprintf(stderr, "prodcons: cannot create a queue: %s\n",
			strerror(errno));
		return 1;
	}
	pid = fork();
	if (pid < 0) {
		perror("prodcons: fork");
		return 1;
	}
	if (pid == 0)
		_exit(consume(q));
	/* A small queue: the producer blocks whenever it runs ahead. */
	for (i = 0; i < count; i++) {
		struct item it = { .seq = i, .last = i == count - 1 };

		if (kipc_send(q, &it, sizeof(it), 0, 1, 0)) {
			perror("prodcons: send");
			return 1;
		}
	}
	close(q);
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) ||
	    WEXITSTATUS(status)) {
		fprintf(stderr, "prodcons: consumer failed\n");
		return 1;
	}
	printf("producer: %u items, expected sum %llu\n", count,
	       (unsigned long long)count * (count - 1) / 2);
	return 0;
}

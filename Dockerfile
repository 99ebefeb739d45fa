# The OmniStream server image (used by docker-compose.yml).
FROM node:20-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts
COPY . .
EXPOSE 3000
USER node
CMD ["node", "--import=tsx", "src/main.ts"]
